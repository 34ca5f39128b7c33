import { DelayedError, type Job } from 'bullmq';
import { z } from 'zod';

/**
 * What a polling job remembers between its polls, kept in its own job data (`job.data.wait`) so a
 * worker that dies loses nothing: the next worker continues with the same budget and interval.
 */
export const WaitState = z.object({
  /** Polls made so far. */
  polls: z.number().int().min(0),
  /** When the first poll ran (epoch ms): the total wait is measured from here. */
  firstSeenAt: z.number(),
  /** Last value seen (item count) and since when it has not changed (epoch ms). */
  lastValue: z.number().optional(),
  unchangedSince: z.number().optional(),
});
export type WaitState = z.infer<typeof WaitState>;

/** The wait state of a job, or a fresh one. A malformed one (written by an older version) starts over. */
export function readWaitState(job: Job, now = Date.now()): WaitState {
  const parsed = WaitState.safeParse((job.data as { wait?: unknown }).wait);
  return parsed.success ? parsed.data : { polls: 0, firstSeenAt: now };
}

/** Delay before poll number `polls + 1`: `minMs`, growing 1.5× per poll, capped at `maxMs`. */
export function pollDelayMs(polls: number, minMs: number, maxMs: number): number {
  return Math.round(Math.min(maxMs, minMs * 1.5 ** Math.max(0, polls)));
}

/**
 * Parks the job in the delayed set until the next poll and frees the worker slot: saves the wait
 * state, moves the job to delayed and throws the DelayedError BullMQ expects. A webhook may promote
 * the job earlier.
 */
export async function pollAgain(
  job: Job,
  token: string | undefined,
  wait: WaitState,
  delayMs: number,
): Promise<never> {
  await job.updateData({ ...(job.data as object), wait });
  await job.moveToDelayed(Date.now() + delayMs, token);
  throw new DelayedError();
}
