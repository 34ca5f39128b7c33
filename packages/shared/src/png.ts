/** A small PNG encoder (8-bit RGB, no filtering) for the demo's sample images and for test fixtures. */
import { crc32, deflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([length, body, crc]);
}

export interface EncodePngOptions {
  /** zlib level: 0 stores the pixels as they are (a file of a predictable size). @defaultValue 6 */
  level?: number;
}

/** A valid 8-bit RGB PNG of `rgb` (`width * height * 3` bytes, row after row). */
export function encodePng(
  width: number,
  height: number,
  rgb: Uint8Array,
  options: EncodePngOptions = {},
): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: truecolour
  const rowBytes = width * 3;
  const raw = Buffer.alloc((rowBytes + 1) * height); // each row: filter type 0 ("none"), then its pixels
  for (let y = 0; y < height; y++)
    Buffer.from(rgb.buffer, rgb.byteOffset + y * rowBytes, rowBytes).copy(raw, y * (rowBytes + 1) + 1);
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: options.level ?? 6 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
