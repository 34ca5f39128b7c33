/**
 * Finding object detections in a result record, whatever shape the Workflow gave them: an array of
 * boxes (`predictions: [{x, y, width, height, class, confidence}]`, centre coordinates as the API writes
 * them), or an object holding one (`{image: {width, height}, predictions: [...]}`), under any top-level
 * output key; CSV cells hold the same as JSON text.
 */
import { z } from 'zod';
import type { ResultRecord } from './result-line.schema.js';

const RawBox = z.looseObject({
  x: z.number(),
  y: z.number(),
  width: z.number().nonnegative(),
  height: z.number().nonnegative(),
  confidence: z.number().optional(),
  class: z.string().optional(),
  class_name: z.string().optional(),
  class_id: z.number().optional(),
});

/** One box: centre `x`, `y` and size in the image's pixels, as the API writes them. */
export interface Box {
  label: string;
  confidence?: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Detections {
  /** The output key that holds them. */
  key: string;
  boxes: Box[];
  /** The image size the boxes refer to, when the record says. */
  image?: { width: number; height: number };
}

/** Keys of the record itself, not outputs of the Workflow. */
const BOOKKEEPING = new Set([
  'file_name',
  'fileName',
  'image_name',
  'imageName',
  'filename',
  'name',
  'error',
  'frame_index',
  'frame_timestamp_s',
  'synthetic',
  'workflow_id',
  'emulated',
  'format',
  'width',
  'height',
  'size_bytes',
  'sha256',
]);

/** The Workflow's top-level output keys of a record. */
export function outputKeys(record: ResultRecord): string[] {
  return Object.keys(record).filter((k) => !BOOKKEEPING.has(k));
}

/** A CSV cell (or any string) that holds JSON, parsed; anything else as it is. */
function parsed(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const t = value.trimStart();
  if (!t.startsWith('[') && !t.startsWith('{')) return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

function toBox(raw: z.infer<typeof RawBox>): Box {
  const label = raw.class ?? raw.class_name ?? (raw.class_id !== undefined ? String(raw.class_id) : 'object');
  return {
    label,
    ...(raw.confidence !== undefined ? { confidence: raw.confidence } : {}),
    x: raw.x,
    y: raw.y,
    width: raw.width,
    height: raw.height,
  };
}

const DETECTION_KEY = /predictions|detections/i;

function boxesIn(value: unknown, key: string): Box[] | undefined {
  if (!Array.isArray(value)) return undefined;
  // An empty list counts only under a key that names detections (else any empty list would).
  if (value.length === 0) return DETECTION_KEY.test(key) ? [] : undefined;
  const boxes: Box[] = [];
  for (const item of value) {
    const box = RawBox.safeParse(item);
    if (!box.success) return undefined;
    boxes.push(toBox(box.data));
  }
  return boxes;
}

// Coerced: a CSV row holds its numbers as text.
const ImageSize = z.object({ width: z.coerce.number().positive(), height: z.coerce.number().positive() });

function sizeOf(value: unknown): { width: number; height: number } | undefined {
  const size = ImageSize.safeParse(value);
  return size.success ? size.data : undefined;
}

/** The detections of a record (the first output key that holds some), or undefined when none does. */
export function detectionsOf(record: ResultRecord): Detections | undefined {
  const recordSize = sizeOf(record);
  for (const key of outputKeys(record)) {
    const value = parsed(record[key]);
    const direct = boxesIn(value, key);
    if (direct) return { key, boxes: direct, ...(recordSize ? { image: recordSize } : {}) };
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const inner = value as Record<string, unknown>;
      const nested = boxesIn(parsed(inner.predictions), 'predictions');
      if (nested) {
        const image = sizeOf(inner.image) ?? recordSize;
        return { key, boxes: nested, ...(image ? { image } : {}) };
      }
    }
  }
  return undefined;
}
