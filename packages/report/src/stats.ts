/**
 * The run at a glance, accumulated one results.jsonl line at a time: everything kept is bounded
 * (capped lists and maps), so a run of any size is summed in flat memory.
 */
import { redactText } from '@rfbatch/shared';
import { detectionsOf, outputKeys, type Box } from './detections.js';
import type { ResultLine, ResultRecord, ResultStatus } from './result-line.schema.js';
import { LowestRanked, sampleRank } from './sample.js';

export interface ReportLimits {
  /** Thumbnails in the gallery. */
  sample: number;
  /** Failed, not-processed and skipped items listed by name (the rest are counted). */
  problems: number;
  /** Distinct classes counted by name (the rest are counted as "other classes"). */
  classes: number;
  /** Distinct output keys counted by name. */
  outputKeys: number;
  /** Boxes drawn on one thumbnail. */
  boxesPerTile: number;
}

export const DEFAULT_LIMITS: ReportLimits = {
  sample: 60,
  problems: 500,
  classes: 200,
  outputKeys: 100,
  boxesPerTile: 50,
};

/** One item of the gallery: what is drawn on its thumbnail. */
export interface SampleItem {
  rank: string;
  source: string;
  kind: 'image' | 'video';
  /** Boxes of the image (or of the video's frame with the most of them), at most `boxesPerTile`. */
  boxes: Box[];
  /** Detections in all (more than `boxes` when capped; all frames of a video). */
  detections: number;
  /** The size the boxes refer to. */
  image?: { width: number; height: number };
  /** Videos: frames with a record, and the frame whose boxes are drawn. */
  frames?: number;
  frameIndex?: number;
}

export interface Problem {
  source: string;
  status: Exclude<ResultStatus, 'ok'>;
  reason: string;
  detail?: string;
}

/** Confidence histogram bins: [0, 0.1), [0.1, 0.2), … [0.9, 1]. */
const CONFIDENCE_BINS = 10;

/** A count per name, holding at most `cap` names; counts for further names go to `other`. */
class CappedCounts {
  readonly counts = new Map<string, number>();
  other = 0;
  constructor(private readonly cap: number) {}
  add(name: string, n = 1): void {
    const have = this.counts.get(name);
    if (have !== undefined) this.counts.set(name, have + n);
    else if (this.counts.size < this.cap) this.counts.set(name, n);
    else this.other += n;
  }
  /** Largest first, then by name. */
  sorted(): [string, number][] {
    return [...this.counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }
}

export class RunStats {
  lines = 0;
  readonly byStatus: Record<ResultStatus, number> = { ok: 0, failed: 0, 'not-processed': 0, skipped: 0 };
  readonly byKind = { image: 0, video: 0 };
  /** Result records read (one per image, one per frame of a video). */
  records = 0;
  /** Records whose output holds detections (possibly none). */
  detectionRecords = 0;
  detections = 0;
  readonly classes: CappedCounts;
  readonly outputKeys: CappedCounts;
  readonly confidence: number[] = Array.from({ length: CONFIDENCE_BINS }, () => 0);
  /** Detections without a confidence. */
  noConfidence = 0;
  readonly problems: Problem[] = [];
  problemsTotal = 0;
  private readonly sample: LowestRanked<SampleItem>;

  constructor(readonly limits: ReportLimits = DEFAULT_LIMITS) {
    this.classes = new CappedCounts(limits.classes);
    this.outputKeys = new CappedCounts(limits.outputKeys);
    this.sample = new LowestRanked<SampleItem>(limits.sample);
  }

  /** True when the results hold detections (so the gallery draws boxes and classes are counted). */
  get hasDetections(): boolean {
    return this.detectionRecords > 0;
  }

  /** The gallery's items, by rank. */
  get sampled(): readonly SampleItem[] {
    return this.sample.items;
  }

  add(line: ResultLine): void {
    this.lines++;
    this.byStatus[line.status]++;
    if (line.kind) this.byKind[line.kind]++;
    if (line.status !== 'ok') this.addProblem(line, line.status);
    const records = line.frames ?? (line.result ? [line.result] : []);
    // The boxes drawn for a video: its frame with the most detections.
    let best: { boxes: Box[]; image?: { width: number; height: number }; frameIndex: number } | undefined;
    let detections = 0;
    records.forEach((record, i) => {
      const found = this.addRecord(record);
      if (!found) return;
      detections += found.boxes.length;
      if (!best || found.boxes.length > best.boxes.length)
        best = {
          boxes: found.boxes,
          ...(found.image ? { image: found.image } : {}),
          frameIndex: frameOf(record, i),
        };
    });
    if (line.status !== 'ok') return;
    const rank = sampleRank(line.source);
    if (!this.sample.wants(rank)) return;
    const kind = line.kind ?? (line.frames ? 'video' : 'image');
    const chosen = best as typeof best;
    this.sample.offer({
      rank,
      source: line.source,
      kind,
      boxes: (chosen?.boxes ?? []).slice(0, this.limits.boxesPerTile),
      detections,
      ...(chosen?.image ? { image: chosen.image } : {}),
      ...(kind === 'video'
        ? { frames: records.length, ...(chosen ? { frameIndex: chosen.frameIndex } : {}) }
        : {}),
    });
  }

  private addRecord(record: ResultRecord) {
    this.records++;
    for (const key of outputKeys(record)) this.outputKeys.add(key);
    const found = detectionsOf(record);
    if (!found) return undefined;
    this.detectionRecords++;
    this.detections += found.boxes.length;
    for (const box of found.boxes) {
      this.classes.add(box.label);
      if (box.confidence === undefined || !Number.isFinite(box.confidence)) this.noConfidence++;
      else {
        const bin = Math.min(CONFIDENCE_BINS - 1, Math.max(0, Math.floor(box.confidence * CONFIDENCE_BINS)));
        this.confidence[bin] = (this.confidence[bin] ?? 0) + 1;
      }
    }
    return found;
  }

  private addProblem(line: ResultLine, status: Problem['status']): void {
    this.problemsTotal++;
    if (this.problems.length >= this.limits.problems) return;
    this.problems.push({
      source: line.source,
      status,
      reason: redactText(line.reason ?? '(no reason given)'),
      ...(line.detail ? { detail: redactText(line.detail) } : {}),
    });
  }
}

function frameOf(record: ResultRecord, i: number): number {
  const n = Number(record.frame_index);
  return Number.isFinite(n) ? n : i;
}
