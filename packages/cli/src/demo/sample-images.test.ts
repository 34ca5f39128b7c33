import { inflateSync, crc32 } from 'node:zlib';
import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { encodeJpeg, encodePng } from './sample-images.js';

describe('sample image encoders', () => {
  it('writes a PNG whose chunks have valid CRCs and whose pixels inflate back', () => {
    const rgb = new Uint8Array(4 * 3 * 3).map((_, i) => i * 7);
    const png = encodePng(4, 3, rgb);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    let at = 8;
    const types: string[] = [];
    let idat = Buffer.alloc(0);
    while (at < png.length) {
      const length = png.readUInt32BE(at);
      const type = png.subarray(at + 4, at + 8).toString('ascii');
      const data = png.subarray(at + 8, at + 8 + length);
      expect(png.readUInt32BE(at + 8 + length)).toBe(crc32(png.subarray(at + 4, at + 8 + length)) >>> 0);
      if (type === 'IDAT') idat = Buffer.concat([idat, data]);
      types.push(type);
      at += 12 + length;
    }
    expect(types).toEqual(['IHDR', 'IDAT', 'IEND']);
    expect(png.readUInt32BE(16)).toBe(4);
    const raw = inflateSync(idat);
    expect(raw).toHaveLength(3 * (1 + 4 * 3));
    expect([...raw.subarray(1, 4)]).toEqual([0, 7, 14]);
  });

  it('writes a JPEG that decodes to the same size', () => {
    const data = encodeJpeg(16, 8, new Uint8Array(16 * 8 * 3).fill(200), 80);
    const decoded = jpeg.decode(data, { useTArray: true });
    expect([decoded.width, decoded.height]).toEqual([16, 8]);
  });
});
