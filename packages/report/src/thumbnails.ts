/**
 * Thumbnails of the sampled images, made with sharp (libvips, prebuilt in the package): small WebP
 * data URIs, each bounded in input pixels and time, two at a time, and all together in bytes.
 */
import { stat } from 'node:fs/promises';

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
export async function makeThumbnail(
  path: string,
  limits: ThumbnailLimits = DEFAULT_THUMBNAIL_LIMITS,
): Promise<Thumbnail | { error: string }> {
  try {
    // Loaded on first use: a machine where sharp's binary cannot load still writes the report (no images).
    const { default: sharp } = await import('sharp');
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
