/** The per-item work of the processing stage: digest, header decode, pseudo-detections. */
import { createHash } from 'node:crypto';
import { readImageHeader } from '../image-header.js';
import { pseudoDetections, type Detection } from './detections.js';

/** One output record: every record names its input file (`file_name`). */
export interface ResultRecord {
  file_name: string;
  format: string | null;
  width: number | null;
  height: number | null;
  size_bytes: number;
  sha256: string;
  predictions: Detection[];
  error: string | null;
  /** Video jobs: the frame this record describes (frames are synthetic, derived from the file size). */
  frame_index?: number;
  frame_timestamp_s?: number;
  synthetic?: boolean;
  workflow_id: string;
  emulated: true;
}

export function analyseImage(fileName: string, bytes: Buffer, workflowId: string): ResultRecord {
  const digest = createHash('sha256').update(bytes).digest();
  const header = readImageHeader(bytes);
  return {
    file_name: fileName,
    format: header?.format ?? null,
    width: header?.width ?? null,
    height: header?.height ?? null,
    size_bytes: bytes.length,
    sha256: digest.toString('hex'),
    predictions: header ? pseudoDetections(digest, header.width, header.height) : [],
    error: header ? null : 'could not decode image: unknown format or truncated header',
    workflow_id: workflowId,
    emulated: true,
  };
}

/** Assumed bitrate to turn a video's size into a duration (nothing is decoded). */
const ASSUMED_BYTES_PER_SECOND = 250_000;
const MAX_FRAMES = 3_600;

/** Synthetic frame records of a video at `fps` frames per second, from its size and digest only. */
export function videoFrameRecords(
  fileName: string,
  sizeBytes: number,
  digestHex: string,
  fps: number,
  workflowId: string,
): ResultRecord[] {
  const durationS = sizeBytes / ASSUMED_BYTES_PER_SECOND;
  const frames = Math.min(MAX_FRAMES, Math.max(1, Math.floor(durationS * fps)));
  const out: ResultRecord[] = [];
  for (let i = 0; i < frames; i++) {
    const digest = createHash('sha256').update(`${digestHex}:${i}`).digest();
    out.push({
      file_name: fileName,
      format: 'video',
      width: 1280,
      height: 720,
      size_bytes: sizeBytes,
      sha256: digestHex,
      predictions: pseudoDetections(digest, 1280, 720),
      error: null,
      frame_index: i,
      frame_timestamp_s: Math.round((i / fps) * 1000) / 1000,
      synthetic: true,
      workflow_id: workflowId,
      emulated: true,
    });
  }
  return out;
}
