import { IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, type MediaKind } from '@rfbatch/shared';

/** Bytes read from the start of a file to recognise its format. */
export const SNIFF_BYTES = 16;

const ascii = (buf: Uint8Array, at: number, text: string) =>
  buf.length >= at + text.length && [...text].every((c, i) => buf[at + i] === c.charCodeAt(0));
const bytes = (buf: Uint8Array, at: number, values: number[]) =>
  buf.length >= at + values.length && values.every((v, i) => buf[at + i] === v);

/** Content checks by format family; several extensions share one (jpg/jpeg, mp4/mov/m4v). */
const SIGNATURES: Record<string, { label: string; test: (b: Uint8Array) => boolean }> = {
  jpeg: { label: 'JPEG', test: (b) => bytes(b, 0, [0xff, 0xd8, 0xff]) },
  png: { label: 'PNG', test: (b) => bytes(b, 0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) },
  webp: { label: 'WebP', test: (b) => ascii(b, 0, 'RIFF') && ascii(b, 8, 'WEBP') },
  bmp: { label: 'BMP', test: (b) => ascii(b, 0, 'BM') },
  jp2: {
    label: 'JPEG 2000',
    test: (b) =>
      bytes(b, 0, [0, 0, 0, 0x0c, 0x6a, 0x50, 0x20, 0x20]) || bytes(b, 0, [0xff, 0x4f, 0xff, 0x51]),
  },
  isobmff: {
    label: 'MP4/QuickTime',
    // `ftyp` box first; old QuickTime files may start with moov/mdat/wide/free/skip instead.
    test: (b) => ['ftyp', 'moov', 'mdat', 'wide', 'free', 'skip', 'pnot'].some((box) => ascii(b, 4, box)),
  },
  avi: { label: 'AVI', test: (b) => ascii(b, 0, 'RIFF') && ascii(b, 8, 'AVI ') },
  mkv: { label: 'Matroska', test: (b) => bytes(b, 0, [0x1a, 0x45, 0xdf, 0xa3]) },
  flv: { label: 'FLV', test: (b) => ascii(b, 0, 'FLV') },
  asf: { label: 'WMV', test: (b) => bytes(b, 0, [0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11]) },
};

const FAMILY: Record<string, keyof typeof SIGNATURES> = {
  jpg: 'jpeg',
  jpeg: 'jpeg',
  png: 'png',
  webp: 'webp',
  bmp: 'bmp',
  jp2: 'jp2',
  mp4: 'isobmff',
  mov: 'isobmff',
  m4v: 'isobmff',
  avi: 'avi',
  mkv: 'mkv',
  flv: 'flv',
  wmv: 'asf',
};

/** The extensions a run of `media` keeps: `include` (when given) within the supported ones. */
export function allowedExtensions(media: MediaKind, include?: readonly string[]): Set<string> {
  const supported: readonly string[] = media === 'images' ? IMAGE_EXTENSIONS : VIDEO_EXTENSIONS;
  const wanted = include?.map((e) => e.toLowerCase());
  return new Set(wanted ? supported.filter((e) => wanted.includes(e)) : supported);
}

/**
 * Checks that the first bytes of a file fit its extension. Returns undefined when they do, else why not
 * (`content is not a PNG image`).
 */
export function contentMismatch(ext: string, head: Uint8Array): string | undefined {
  const family = FAMILY[ext];
  if (!family) return `.${ext} is not a supported media extension`;
  const signature = SIGNATURES[family]!;
  return signature.test(head) ? undefined : `content is not ${signature.label} data (extension .${ext})`;
}
