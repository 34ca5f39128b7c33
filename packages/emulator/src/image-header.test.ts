import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { looksLikeImage, readImageHeader } from './image-header.js';
import { bmpHeader, jpegHeader, pngHeader, webpHeader } from '@rfbatch/testkit/images';

describe('readImageHeader', () => {
  it('reads PNG, JPEG, WebP (VP8X, VP8L, VP8) and BMP sizes', () => {
    expect(readImageHeader(pngHeader(640, 480))).toEqual({ format: 'png', width: 640, height: 480 });
    expect(readImageHeader(jpegHeader(1920, 1080))).toEqual({ format: 'jpeg', width: 1920, height: 1080 });
    expect(readImageHeader(webpHeader(300, 200))).toEqual({ format: 'webp', width: 300, height: 200 });
    expect(readImageHeader(bmpHeader(33, 44))).toEqual({ format: 'bmp', width: 33, height: 44 });
    const vp8l = Buffer.alloc(30);
    vp8l.write('RIFF', 0, 'latin1');
    vp8l.write('WEBP', 8, 'latin1');
    vp8l.write('VP8L', 12, 'latin1');
    vp8l[20] = 0x2f;
    vp8l.writeUInt32LE((99 & 0x3fff) | ((49 & 0x3fff) << 14), 21);
    expect(readImageHeader(vp8l)).toEqual({ format: 'webp', width: 100, height: 50 });
    const vp8 = Buffer.alloc(30);
    vp8.write('RIFF', 0, 'latin1');
    vp8.write('WEBP', 8, 'latin1');
    vp8.write('VP8 ', 12, 'latin1');
    vp8.writeUInt16LE(321, 26);
    vp8.writeUInt16LE(123, 28);
    expect(readImageHeader(vp8)).toEqual({ format: 'webp', width: 321, height: 123 });
  });

  it('reads a real encoded JPEG (SOF after other segments)', () => {
    const pixels = Buffer.alloc(37 * 23 * 4, 128);
    const encoded = jpeg.encode({ data: pixels, width: 37, height: 23 }, 80).data;
    expect(readImageHeader(encoded)).toEqual({ format: 'jpeg', width: 37, height: 23 });
  });

  it('returns undefined for other or truncated bytes', () => {
    expect(readImageHeader(Buffer.from('hello world, not an image at all'))).toBeUndefined();
    expect(readImageHeader(pngHeader(1, 1).subarray(0, 20))).toBeUndefined();
    expect(readImageHeader(jpegHeader(10, 10).subarray(0, 12))).toBeUndefined();
    expect(readImageHeader(pngHeader(0, 5))).toBeUndefined();
    expect(looksLikeImage(Buffer.from([0x49, 0x49, 0x2a, 0x00, 1, 2]))).toBe(true);
    expect(looksLikeImage(Buffer.from('text'))).toBe(false);
  });
});
