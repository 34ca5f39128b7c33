import type { Job } from 'bullmq';
import { isRetryable } from '@rfbatch/shared';
import { isUnrecoverable } from './bull-errors.js';

/**
 * True when this try of the job is its last one: BullMQ counts the failed tries in attemptsMade, and
 * the one running now is not counted yet. The one rule for "last attempt" of every stage service.
 */
export function isLastAttempt(job: Job): boolean {
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

/** True when BullMQ will not run the job again after `error` (asked while the job is still running). */
export function isFinalFailure(job: Job, error: unknown): boolean {
  return isUnrecoverable(error) || !isRetryable(error) || isLastAttempt(job);
}

/**
 * After the fact (a worker's `failed` event): BullMQ sets `finishedOn` only when it gave the job up
 * (no try left, unrecoverable), not when it schedules a retry.
 */
export function hasFailedForGood(job: Job): boolean {
  return typeof job.finishedOn === 'number';
}
