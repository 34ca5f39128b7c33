/**
 * A job's `processingTimeoutSeconds` is the cumulative machine time of the whole job, split evenly
 * across its chunks (roboflow-api.md §4, troubleshooting "Job Timed Out"): a budget that fits the
 * average chunk still stops the largest one. This estimates a budget that fits, from what is known
 * before the job (item counts) or after a timeout (the measured pace). Used by preflight (before the
 * run) and by failure triage (the suggested restart override).
 */
import type { MediaKind } from './run-spec.schema.js';

/**
 * Assumed machine seconds per image when nothing was measured. The real cost depends on the Workflow
 * (a small detector is far faster, SAHI + segmentation far slower); these err on the long side.
 */
export const ASSUMED_SECONDS_PER_IMAGE = { cpu: 1, gpu: 0.25 } as const;
/** Assumed bytes per second of video, to turn a size into a duration (nothing is decoded). */
const ASSUMED_VIDEO_BYTES_PER_SECOND = 250_000;
/** Frames per second sampled when the spec sets no `maxVideoFPS` (an assumption). */
const ASSUMED_VIDEO_FPS = 10;
/** Margin over the estimate: a budget that is too short costs a restart, one too long costs nothing. */
const SAFETY = 2;
/** Smallest budget suggested (start-up and model loading cost time on every chunk). */
export const MIN_TIMEOUT_BUDGET_SECONDS = 600;
/** Largest budget the RunSpec accepts (7 days). */
export const MAX_TIMEOUT_BUDGET_SECONDS = 7 * 24 * 3600;
const STEP_SECONDS = 300;

export interface TimeoutBudgetInput {
  /** Items of the job (images, or videos). */
  items: number;
  media: MediaKind;
  machineType: 'cpu' | 'gpu';
  /** Chunks (tasks) the job is split into, and the items of the largest: the budget is split evenly. */
  chunks?: number;
  largestChunkItems?: number;
  /** Total bytes of the videos (video runs), to guess their frame count. */
  videoBytes?: number;
  maxVideoFPS?: number;
  /** Machine seconds per item measured on this job (e.g. processed items before a timeout). */
  measuredSecondsPerItem?: number;
  /** A budget that already proved too short: the result is at least twice it. */
  failedBudgetSeconds?: number;
}

export interface TimeoutBudget {
  /** The budget to set: `neededSeconds` rounded up to 5 minutes, at least 10 minutes. */
  seconds: number;
  /** The estimate itself (margin included), before rounding: a budget below it is likely too short. */
  neededSeconds: number;
  /** How the number was reached, in one sentence (shown to the user). */
  basis: string;
}

/** A processingTimeoutSeconds that should fit the job, rounded up to 5 minutes. */
export function estimateTimeoutBudget(input: TimeoutBudgetInput): TimeoutBudget {
  const items = Math.max(0, input.items);
  const chunks = Math.max(1, input.chunks ?? 1);
  const largest = Math.max(1, input.largestChunkItems ?? Math.ceil(items / chunks));
  // Split evenly: every chunk gets budget/chunks, so the largest chunk sets the total.
  const effectiveItems = Math.max(items, chunks * largest);
  let perItem: number;
  let how: string;
  if (input.measuredSecondsPerItem !== undefined && input.measuredSecondsPerItem > 0) {
    perItem = input.measuredSecondsPerItem;
    how = `${round(perItem)} s of machine time per item as measured on this job`;
  } else if (input.media === 'videos') {
    const fps = input.maxVideoFPS ?? ASSUMED_VIDEO_FPS;
    const seconds = (input.videoBytes ?? 0) / ASSUMED_VIDEO_BYTES_PER_SECOND;
    const frames = Math.max(items, seconds * fps);
    perItem = (frames / Math.max(1, items)) * ASSUMED_SECONDS_PER_IMAGE[input.machineType];
    how = `about ${Math.round(frames)} frames (${fps} fps, assuming ${ASSUMED_VIDEO_BYTES_PER_SECOND / 1000} kB per second of video) at an assumed ${ASSUMED_SECONDS_PER_IMAGE[input.machineType]} s per frame on ${input.machineType}`;
  } else {
    perItem = ASSUMED_SECONDS_PER_IMAGE[input.machineType];
    how = `an assumed ${perItem} s of machine time per image on ${input.machineType} (the real cost depends on the Workflow)`;
  }
  let seconds = effectiveItems * perItem * SAFETY;
  const parts = [
    `${effectiveItems} items${chunks > 1 ? ` (${chunks} chunks of up to ${largest}; the budget is split evenly across chunks)` : ''}`,
    how,
    `×${SAFETY} margin`,
  ];
  if (input.failedBudgetSeconds !== undefined && seconds < input.failedBudgetSeconds * 2) {
    seconds = input.failedBudgetSeconds * 2;
    parts.push(`at least twice the ${input.failedBudgetSeconds} s that ran out`);
  }
  const rounded = Math.min(
    MAX_TIMEOUT_BUDGET_SECONDS,
    Math.max(MIN_TIMEOUT_BUDGET_SECONDS, Math.ceil(seconds / STEP_SECONDS) * STEP_SECONDS),
  );
  return {
    seconds: rounded,
    neededSeconds: Math.ceil(seconds),
    basis: `${parts.join(', ')}; rounded up to ${STEP_SECONDS / 60} min, at least ${MIN_TIMEOUT_BUDGET_SECONDS / 60} min`,
  };
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
