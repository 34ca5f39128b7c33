/** Deterministic pseudo-detections: the same bytes always give the same boxes (no model is run). */
export interface Detection {
  class: string;
  class_id: number;
  confidence: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

const CLASSES = ['person', 'car', 'dog', 'cat', 'bicycle', 'bird', 'truck', 'bottle'];

/** 0–3 boxes inside a `width` × `height` image, drawn from the bytes of a SHA-256 digest. */
export function pseudoDetections(digest: Buffer, width: number, height: number): Detection[] {
  const count = (digest[0] ?? 0) % 4;
  const out: Detection[] = [];
  for (let k = 0; k < count; k++) {
    const b = (i: number) => digest[(1 + k * 6 + i) % digest.length] ?? 0;
    const w = Math.max(1, Math.round(((b(2) / 255) * 0.5 + 0.05) * width));
    const h = Math.max(1, Math.round(((b(3) / 255) * 0.5 + 0.05) * height));
    const cx = Math.round(w / 2 + (b(0) / 255) * Math.max(0, width - w));
    const cy = Math.round(h / 2 + (b(1) / 255) * Math.max(0, height - h));
    const classId = b(4) % CLASSES.length;
    out.push({
      class: CLASSES[classId] as string,
      class_id: classId,
      confidence: Math.round((0.5 + b(5) / 510) * 1000) / 1000,
      x: cx,
      y: cy,
      width: w,
      height: h,
    });
  }
  return out;
}
