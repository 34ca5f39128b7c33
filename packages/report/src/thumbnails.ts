/**
 * Thumbnails of the sampled images, made with sharp (libvips, prebuilt in the package): small WebP
 * data URIs, each bounded in input pixels and time, two at a time, and all together in bytes.
 */
import { stat } from 'node:fs/promises';
import type SharpModule from 'sharp';

export interface ThumbnailLimits {
  /** Longest side of a thumbnail, in pixels. */
  maxSide: number;
  /** WebP quality, 1–100. */
  quality: number;
  /** Larger inputs are not decoded (width × height). */
  maxInputPixels: number;
  /** Larger files are not read. */
  maxInputBytes: number;
  /** Per image. */
  timeoutSeconds: number;
  /** Sum of all thumbnails' bytes: past it, the rest of the gallery shows boxes on a blank tile. */
  totalBytes: number;
}

export const DEFAULT_THUMBNAIL_LIMITS: ThumbnailLimits = {
  maxSide: 200,
  quality: 50,
  maxInputPixels: 50_000_000,
  maxInputBytes: 50 * 1024 * 1024,
  timeoutSeconds: 10,
  totalBytes: 1_500_000,
};

export interface Thumbnail {
  dataUri: string;
  bytes: number;
  /** Size of the decoded source (after EXIF orientation), which the boxes refer to. */
  width: number;
  height: number;
}

/** A WebP thumbnail of the image at `path`, or the reason there is none (never throws). */
let loaded: Promise<typeof SharpModule> | undefined;

/**
 * sharp, loaded on first use (a machine where its binary cannot load still writes the report, with no
 * images), without libvips' operation cache and with one libvips thread per image: each source is read
 * once, two at a time, so the cache (50 MB by default) and a thread pool per core only held memory in
 * the export process long after the report was written.
 */
function loadSharp(): Promise<typeof SharpModule> {
  loaded ??= import('sharp').then(({ default: sharp }) => {
    sharp.cache(false);
    sharp.concurrency(1);
    return sharp;
  });
  return loaded;
}

export async function makeThumbnail(
  path: string,
  limits: ThumbnailLimits = DEFAULT_THUMBNAIL_LIMITS,
): Promise<Thumbnail | { error: string }> {
  try {
    const sharp = await loadSharp();
    const size = (await stat(path)).size;
    if (size > limits.maxInputBytes) return { error: `file too large for a thumbnail (${size} bytes)` };
    const image = sharp(path, { limitInputPixels: limits.maxInputPixels, failOn: 'error' }).autoOrient();
    const meta = await image.metadata();
    const { data } = await image
      .resize({ width: limits.maxSide, height: limits.maxSide, fit: 'inside', withoutEnlargement: true })
      .webp({ quality: limits.quality, effort: 2 })
      .timeout({ seconds: limits.timeoutSeconds })
      .toBuffer({ resolveWithObject: true });
    const swapped = (meta.orientation ?? 1) >= 5;
    const width = (swapped ? meta.height : meta.width) ?? 0;
    const height = (swapped ? meta.width : meta.height) ?? 0;
    return {
      dataUri: `data:image/webp;base64,${data.toString('base64')}`,
      bytes: data.length,
      width,
      height,
    };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}
