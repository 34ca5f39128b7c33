/**
 * Benchmark data sets, generated once and cached under `bench/.data` (a marker file records that a
 * set is complete, so an interrupted generation starts over): trees of valid PNG images, tiny or
 * large, in nested folders.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pngBytes } from '@rfbatch/testkit/images';
import { eachLimited } from '@rfbatch/shared';

const DEFAULT_DATA_DIR = resolve(import.meta.dirname, '..', '.data');

export interface ImageSet {
  /** The folder to give rfbatch as a source. */
  dir: string;
  images: number;
  bytes: number;
}

export interface ImageSetOptions {
  /** Cache folder. @defaultValue bench/.data */
  dataDir?: string;
  /** Name of the set (its folder). */
  name: string;
  images: number;
  /** Bytes per image (0 = tiny 8×8 PNGs of a few hundred bytes). */
  bytesPerImage: number;
  /** Images per folder. @defaultValue 100 */
  perFolder?: number;
}

/** A tree of `images` distinct valid PNGs: `<dir>/d-<k>/e-<j>/img-<i>.png`, `perFolder` per leaf folder. */
export async function imageSet(
  options: ImageSetOptions,
  log: (m: string) => void = () => {},
): Promise<ImageSet> {
  const root = join(options.dataDir ?? DEFAULT_DATA_DIR, options.name);
  const dir = join(root, 'src');
  const marker = join(root, 'complete.json');
  if (existsSync(marker)) {
    const done = JSON.parse(await readFile(marker, 'utf8')) as { images: number; bytes: number };
    if (done.images === options.images) return { dir, ...done };
  }
  await rm(root, { recursive: true, force: true });
  const perFolder = options.perFolder ?? 100;
  const started = Date.now();
  const folders = Math.ceil(options.images / perFolder);
  let bytes = 0;
  let written = 0;
  await eachLimited(
    Array.from({ length: folders }, (_, f) => f),
    8,
    async (f) => {
      const folder = join(dir, `d-${String(Math.floor(f / 100)).padStart(3, '0')}`, `e-${f % 100}`);
      await mkdir(folder, { recursive: true });
      const end = Math.min(options.images, (f + 1) * perFolder);
      for (let i = f * perFolder; i < end; i++) {
        const png = pngBytes(`${options.name}-${i}`, options.bytesPerImage);
        bytes += png.length;
        await writeFile(join(folder, `img-${i}.png`), png);
        if (++written % 20_000 === 0) log(`  ${written} / ${options.images} images written`);
      }
    },
  );
  await writeFile(marker, JSON.stringify({ images: options.images, bytes }));
  log(
    `generated ${options.name}: ${options.images} images, ${(bytes / 1e6).toFixed(1)} MB in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  return { dir, images: options.images, bytes };
}
