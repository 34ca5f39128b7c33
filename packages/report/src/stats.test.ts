import { describe, expect, it } from 'vitest';
import type { ResultLine } from './result-line.schema.js';
import { RunStats } from './stats.js';

const ok = (i: number, boxes = i % 3): ResultLine => ({
  source: `d/img-${i}.png`,
  kind: 'image',
  status: 'ok',
  result: {
    file_name: `img-${i}.png`,
    width: 100,
    height: 100,
    predictions: Array.from({ length: boxes }, (_, k) => ({
      class: k === 0 ? 'cat' : 'dog',
      confidence: k === 0 ? 0.95 : 0.31,
      x: 10,
      y: 10,
      width: 5,
      height: 5,
    })),
  },
});

const limits = { sample: 5, problems: 3, classes: 1, outputKeys: 10, boxesPerTile: 1 };

describe('RunStats', () => {
  it('counts statuses, classes, confidences and keeps a sample that does not depend on order', () => {
    const lines = Array.from({ length: 40 }, (_, i) => ok(i));
    const forward = new RunStats(limits);
    const backward = new RunStats(limits);
    lines.forEach((l) => forward.add(l));
    [...lines].reverse().forEach((l) => backward.add(l));
    expect(forward.sampled.map((s) => s.source)).toEqual(backward.sampled.map((s) => s.source));
    expect(forward.sampled).toHaveLength(5);
    expect(forward.byStatus.ok).toBe(40);
    // 40 lines with 0, 1, 2, 0, 1, 2 … boxes: 13 × 1 + 13 × 2.
    expect(forward.detections).toBe(39);
    // One class by name (the cap), the other counted apart.
    expect(forward.classes.sorted()).toEqual([['cat', 26]]);
    expect(forward.classes.other).toBe(13);
    expect(forward.confidence[9]).toBe(26);
    expect(forward.confidence[3]).toBe(13);
    // Boxes per tile are capped, the detection count is not.
    for (const s of forward.sampled) expect(s.boxes.length).toBeLessThanOrEqual(1);
  });

  it('lists failed and skipped items up to the cap, counts all, redacts their reasons, never samples them', () => {
    const stats = new RunStats(limits);
    for (let i = 0; i < 6; i++)
      stats.add({
        source: `bad-${i}.png`,
        status: i % 2 ? 'failed' : 'skipped',
        reason: `fetch https://bucket.example/x.png?X-Amz-Signature=abc${i} failed`,
      });
    expect(stats.problemsTotal).toBe(6);
    expect(stats.problems).toHaveLength(3);
    expect(stats.problems[1]?.reason).toBe('fetch https://bucket.example/x.png?<redacted> failed');
    expect(stats.sampled).toEqual([]);
    expect(stats.hasDetections).toBe(false);
  });

  it('a video is one item: all its frames counted, its busiest frame drawn', () => {
    const stats = new RunStats(limits);
    const frame = (i: number, n: number) => ({ ...ok(i, n).result, frame_index: i });
    stats.add({
      source: 'v.mp4',
      kind: 'video',
      status: 'ok',
      frames: [frame(0, 1), frame(1, 2), frame(2, 0)],
    });
    expect(stats.records).toBe(3);
    expect(stats.detections).toBe(3);
    expect(stats.sampled[0]).toMatchObject({ kind: 'video', frames: 3, frameIndex: 1, detections: 3 });
  });
});
