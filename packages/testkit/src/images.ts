/**
 * Image (and video) fixtures of the tests and benches: valid PNGs of their own bytes per seed, files
 * that are only an image header (enough for header decoding), and a minimal MP4.
 */
import { createHash } from 'node:crypto';
import { encodePng } from '@rfbatch/shared';

/**
 * A valid RGB PNG whose pixels derive from `seed` (so every image has its own bytes), `side`×`side`
 * pixels: with the default 8×8 it is a few hundred bytes. `targetBytes` grows it (incompressible
 * pixels) to about that size instead.
 */
export function pngBytes(seed: number | string, targetBytes = 0, side = 8): Buffer {
  const width = targetBytes > 0 ? Math.max(8, Math.ceil(Math.sqrt(targetBytes / 3))) : side;
  const rgb = new Uint8Array(width * width * 3);
  // xorshift32 from a hash of the seed: fast, deterministic, incompressible.
  let state = createHash('sha256').update(String(seed)).digest().readUInt32BE(0) || 1;
  const words = new Uint32Array(rgb.buffer, 0, Math.floor(rgb.length / 4));
  for (let i = 0; i < words.length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    words[i] = state >>> 0;
  }
  return encodePng(width, width, rgb, { level: targetBytes > 0 ? 0 : 6 });
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

/** A PNG signature + IHDR chunk: enough for header decoding (not a viewable image). */
export function pngHeader(width: number, height: number, extraBytes = 16): Buffer {
  const b = Buffer.alloc(33 + extraBytes);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(b, 0);
  b.writeUInt32BE(13, 8);
  b.write('IHDR', 12, 'latin1');
  b.writeUInt32BE(width, 16);
  b.writeUInt32BE(height, 20);
  b[24] = 8;
  b[25] = 2;
  for (let i = 33; i < b.length; i++) b[i] = (i * 31 + width) & 0xff;
  return b;
}

/** SOI, an APP0 segment, then SOF0 with the size. */
export function jpegHeader(width: number, height: number): Buffer {
  const app0 = Buffer.from([
    0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00,
    0x00,
  ]);
  const sof = Buffer.from([
    0xff,
    0xc0,
    0x00,
    0x11,
    0x08,
    height >> 8,
    height & 0xff,
    width >> 8,
    width & 0xff,
    0x03,
    1,
    0x22,
    0,
    2,
    0x11,
    1,
    3,
    0x11,
    1,
  ]);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), app0, sof, Buffer.from([0xff, 0xd9])]);
}

export function bmpHeader(width: number, height: number): Buffer {
  const b = Buffer.alloc(54);
  b.write('BM', 0, 'latin1');
  b.writeUInt32LE(54, 2);
  b.writeUInt32LE(54, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(width, 18);
  b.writeInt32LE(-height, 22);
  return b;
}

/** A RIFF/WEBP file with a VP8X chunk. */
export function webpHeader(width: number, height: number): Buffer {
  const b = Buffer.alloc(30);
  b.write('RIFF', 0, 'latin1');
  b.writeUInt32LE(22, 4);
  b.write('WEBP', 8, 'latin1');
  b.write('VP8X', 12, 'latin1');
  b.writeUInt32LE(10, 16);
  b.writeUIntLE(width - 1, 24, 3);
  b.writeUIntLE(height - 1, 27, 3);
  return b;
}
