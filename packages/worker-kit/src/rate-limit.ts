import type { Job } from 'bullmq';
import { ErrorCode, RfbatchError, type QueueName, type Queues, type RunStore } from '@rfbatch/shared';

/** Rate-limit bounces of one job before its 429s count as ordinary (retried, then final) failures. */
export const MAX_RATE_LIMIT_BOUNCES = 20;
const DEFAULT_RATE_LIMIT_MS = 1_000;

/**
 * Manual rate limits (worker.rateLimit) only take effect on a worker that has a limiter; this one
 * never binds by itself.
 */
export const OPEN_LIMITER = { max: 1_000_000, duration: 1_000 };

/** A 429 (or the client's "rate limited" after its own retries) that reached the processor boundary. */
export function isRateLimited(error: unknown): error is RfbatchError {
  return error instanceof RfbatchError && (error.status === 429 || error.code === ErrorCode.apiRateLimited);
}

/** How long the API asked us to wait (Retry-After), else a second. */
export function rateLimitWaitMs(error: RfbatchError): number {
  const asked = (error as { retryAfterMs?: unknown }).retryAfterMs;
  return typeof asked === 'number' ? asked : DEFAULT_RATE_LIMIT_MS;
}

/** Counts one more bounce of `job` (kept in the run's hash for a week) and returns the count. */
export async function countBounce(store: RunStore, runId: string, job: Job): Promise<number> {
  const key = store.key(runId, 'ratelimited');
  const n = await store.redis.hincrby(key, job.id ?? job.name, 1);
  await store.redis.expire(key, 7 * 24 * 3600);
  return n;
}

/** `onRateLimited` for a service's Roboflow client, bound to the queues once they exist. */
export interface QueueRateLimiter {
  onRateLimited: (retryAfterMs: number) => void;
  attach(queues: Queues): void;
}

/**
 * For `onRateLimited` of the client: when the API says "slow down" to any request, every worker of
 * `queue` stops taking new jobs for that long (in-flight requests wait in the client's own backoff).
 * The client is made before the queues, hence `attach`.
 */
export function queueRateLimiter(queue: QueueName): QueueRateLimiter {
  let target: Queues | undefined;
  return {
    onRateLimited(retryAfterMs) {
      void target?.[queue].rateLimit(Math.max(1, Math.round(retryAfterMs))).catch(() => {});
    },
    attach(queues) {
      target = queues;
    },
  };
}
