import { mkdir, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import jpeg from 'jpeg-js';
import { encodePng, seededRandom, writeFileAtomic } from '@rfbatch/shared';

/** RGB pixels of a picture: a diagonal gradient with a few filled circles, so images differ and compress like photos a bit. */
function paint(width: number, height: number, rand: () => number): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  const [r0, g0, b0] = [rand() * 255, rand() * 255, rand() * 255];
  let i = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++, i += 3) {
      const g = (x / width + y / height) / 2;
      rgb[i] = r0 + (255 - r0) * g;
      rgb[i + 1] = g0 + (128 - g0) * g;
      rgb[i + 2] = b0 + (64 - b0) * g;
    }
  }
  // A few filled circles, drawn over their bounding boxes only.
  const circles = 2 + Math.floor(rand() * 4);
  for (let c = 0; c < circles; c++) {
    const cx = rand() * width;
    const cy = rand() * height;
    const r = (0.1 + rand() * 0.3) * Math.min(width, height);
    const color = [rand() * 255, rand() * 255, rand() * 255];
    for (let y = Math.max(0, Math.floor(cy - r)); y < Math.min(height, Math.ceil(cy + r)); y++) {
      const half = Math.sqrt(Math.max(0, r * r - (y - cy) ** 2));
      for (let x = Math.max(0, Math.floor(cx - half)); x < Math.min(width, Math.ceil(cx + half)); x++) {
        const j = (y * width + x) * 3;
        rgb[j] = color[0] ?? 0;
        rgb[j + 1] = color[1] ?? 0;
        rgb[j + 2] = color[2] ?? 0;
      }
    }
  }
  return rgb;
}

export function encodeJpeg(width: number, height: number, rgb: Uint8Array, quality: number): Buffer {
  const rgba = Buffer.alloc(width * height * 4);
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
    rgba[j] = rgb[i] ?? 0;
    rgba[j + 1] = rgb[i + 1] ?? 0;
    rgba[j + 2] = rgb[i + 2] ?? 0;
    rgba[j + 3] = 255;
  }
  return jpeg.encode({ data: rgba, width, height }, quality).data;
}

/** Folders of the sample set: a few levels deep, and the same file names in several of them. */
const FOLDERS = [
  'street',
  'street/night',
  'warehouse/aisle-1',
  'warehouse/aisle-2',
  'fields/2025/june',
  'fields/2025/july',
  'misc',
];

export interface SampleSet {
  dir: string;
  files: number;
  bytes: number;
  png: number;
  jpeg: number;
}

/**
 * Writes `count` real images (about 60% PNG, 40% JPEG) of varied sizes into nested folders of `dir`.
 * Deterministic; a set already written with the same count is reused.
 */
export async function generateSampleImages(dir: string, count = 200, seed = 7): Promise<SampleSet> {
  // Beside the folder, not in it: the marker is not an image and must not be part of the run.
  const marker = join(dirname(dir), `${basename(dir)}.sample.json`);
  try {
    const previous = JSON.parse(await readFile(marker, 'utf8')) as SampleSet & { seed: number };
    if (previous.files === count && previous.seed === seed) return { ...previous, dir };
  } catch {
    // No usable earlier set: write one.
  }
  const rand = seededRandom(seed);
  let bytes = 0;
  let png = 0;
  for (let i = 0; i < count; i++) {
    const folder = FOLDERS[i % FOLDERS.length] ?? 'misc';
    const isPng = rand() < 0.6;
    // jpeg-js is slow (pure JS): JPEGs stay smaller so the set is written in a few seconds.
    const scale = isPng ? 1 : 0.4;
    const width = Math.round((32 + Math.floor(rand() * 480)) * scale);
    const height = Math.round((24 + Math.floor(rand() * 360)) * scale);
    const rgb = paint(width, height, rand);
    // Names repeat across folders (img-0001 in several), as real data sets do.
    const name = `img-${String(Math.floor(i / 3)).padStart(4, '0')}.${isPng ? 'png' : 'jpg'}`;
    const data = isPng
      ? encodePng(width, height, rgb)
      : encodeJpeg(width, height, rgb, 60 + Math.floor(rand() * 35));
    await mkdir(join(dir, folder), { recursive: true });
    await writeFileAtomic(join(dir, folder, name), data);
    bytes += data.length;
    if (isPng) png++;
  }
  const set: SampleSet = { dir, files: count, bytes, png, jpeg: count - png };
  await writeFileAtomic(marker, JSON.stringify({ ...set, seed }));
  return set;
}
