import { crc32, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { encodePng } from './png.js';
import { seededRandom } from './seeded-random.js';

describe('encodePng', () => {
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

  it('stores the pixels as they are at level 0', () => {
    const png = encodePng(16, 16, new Uint8Array(16 * 16 * 3).fill(9), { level: 0 });
    expect(png.length).toBeGreaterThan(16 * (1 + 16 * 3));
  });
});

describe('seededRandom', () => {
  it('repeats its numbers for a seed, in [0, 1), and differs between seeds', () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    const first = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(first);
    expect(first.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(seededRandom(8)()).not.toBe(first[0]);
  });
});
