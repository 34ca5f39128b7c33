/**
 * Format, width and height from an image's first bytes (PNG, JPEG, WebP, BMP, GIF), without decoding
 * pixels. Returns undefined for bytes that are not one of these formats or whose header is cut short.
 */
export interface ImageHeader {
  format: 'png' | 'jpeg' | 'webp' | 'bmp' | 'gif';
  width: number;
  height: number;
}

export function readImageHeader(buf: Buffer): ImageHeader | undefined {
  try {
    return png(buf) ?? jpeg(buf) ?? webp(buf) ?? bmp(buf) ?? gif(buf);
  } catch {
    return undefined; // a header that claims more bytes than there are
  }
}

/** Whether the bytes start like an image this module (or a common other format) knows. */
export function looksLikeImage(buf: Buffer): boolean {
  if (readImageHeader(buf)) return true;
  const tiff = buf.length >= 4 && (buf.readUInt32BE(0) === 0x49492a00 || buf.readUInt32BE(0) === 0x4d4d002a);
  const jp2 = buf.length >= 12 && buf.subarray(4, 8).toString('latin1') === 'jP  ';
  return tiff || jp2;
}

const valid = (h: ImageHeader): ImageHeader | undefined => (h.width > 0 && h.height > 0 ? h : undefined);

function png(b: Buffer): ImageHeader | undefined {
  if (b.length < 24 || b.readUInt32BE(0) !== 0x89504e47 || b.toString('latin1', 12, 16) !== 'IHDR')
    return undefined;
  return valid({ format: 'png', width: b.readUInt32BE(16), height: b.readUInt32BE(20) });
}

function jpeg(b: Buffer): ImageHeader | undefined {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return undefined;
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return undefined;
    const marker = b[i + 1] as number;
    if (marker === 0xff) {
      i += 1; // fill byte
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2;
      continue;
    }
    const length = b.readUInt16BE(i + 2);
    // SOF0..SOF15 carry the size, except DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return valid({ format: 'jpeg', height: b.readUInt16BE(i + 5), width: b.readUInt16BE(i + 7) });
    }
    i += 2 + length;
  }
  return undefined;
}

function webp(b: Buffer): ImageHeader | undefined {
  if (b.length < 30 || b.toString('latin1', 0, 4) !== 'RIFF' || b.toString('latin1', 8, 12) !== 'WEBP')
    return undefined;
  const chunk = b.toString('latin1', 12, 16);
  if (chunk === 'VP8 ') {
    return valid({ format: 'webp', width: b.readUInt16LE(26) & 0x3fff, height: b.readUInt16LE(28) & 0x3fff });
  }
  if (chunk === 'VP8L') {
    const bits = b.readUInt32LE(21);
    return valid({ format: 'webp', width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 });
  }
  if (chunk === 'VP8X') {
    return valid({ format: 'webp', width: b.readUIntLE(24, 3) + 1, height: b.readUIntLE(27, 3) + 1 });
  }
  return undefined;
}

function bmp(b: Buffer): ImageHeader | undefined {
  if (b.length < 26 || b.toString('latin1', 0, 2) !== 'BM') return undefined;
  const dib = b.readUInt32LE(14);
  if (dib === 12) return valid({ format: 'bmp', width: b.readUInt16LE(18), height: b.readUInt16LE(20) });
  return valid({ format: 'bmp', width: Math.abs(b.readInt32LE(18)), height: Math.abs(b.readInt32LE(22)) });
}

function gif(b: Buffer): ImageHeader | undefined {
  if (b.length < 10 || !/^GIF8[79]a$/.test(b.toString('latin1', 0, 6))) return undefined;
  return valid({ format: 'gif', width: b.readUInt16LE(6), height: b.readUInt16LE(8) });
}
