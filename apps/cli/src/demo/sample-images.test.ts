import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { encodeJpeg } from './sample-images.js';

describe('sample image encoder', () => {
  it('writes a JPEG that decodes to the same size', () => {
    const data = encodeJpeg(16, 8, new Uint8Array(16 * 8 * 3).fill(200), 80);
    const decoded = jpeg.decode(data, { useTArray: true });
    expect([decoded.width, decoded.height]).toEqual([16, 8]);
  });
});
