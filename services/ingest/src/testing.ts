/** Test and benchmark support: small valid images and source trees. Import from '@rfbatch/ingest/testing'. */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { encodePng } from '@rfbatch/shared';

/**
 * A valid RGB PNG whose pixels derive from `seed` (so every image has its own bytes). With the default
 * 8×8 size it is a few hundred bytes; `targetBytes` grows it (incompressible pixels) to about that size.
 */
export function pngBytes(seed: number | string, targetBytes = 0): Buffer {
  const side = targetBytes > 0 ? Math.max(8, Math.ceil(Math.sqrt(targetBytes / 3))) : 8;
  const rgb = new Uint8Array(side * side * 3);
  // xorshift32 from a hash of the seed: fast, deterministic, incompressible.
  let state = createHash('sha256').update(String(seed)).digest().readUInt32BE(0) || 1;
  const words = new Uint32Array(rgb.buffer, 0, Math.floor(rgb.length / 4));
  for (let i = 0; i < words.length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    words[i] = state >>> 0;
  }
  return encodePng(side, side, rgb, { level: targetBytes > 0 ? 0 : 6 });
}

/** Writes `files` (relative path → bytes) under `root`, creating folders. */
export async function writeTree(root: string, files: Record<string, Buffer | string>): Promise<void> {
  for (const [rel, data] of Object.entries(files)) {
    const path = join(root, rel);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, data);
  }
}

/** A minimal MP4 header (an `ftyp` box) followed by `size` filler bytes: enough to pass the magic check. */
export function fakeMp4(size = 2048, seed = 0): Buffer {
  const head = Buffer.from([
    0,
    0,
    0,
    0x18,
    ...Buffer.from('ftypisom'),
    0,
    0,
    2,
    0,
    ...Buffer.from('isomiso2mp41'),
  ]);
  const body = Buffer.alloc(Math.max(0, size - head.length), seed % 251);
  return Buffer.concat([head, body]);
}
