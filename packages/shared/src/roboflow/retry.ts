/**
 * Retries of API calls: jittered exponential backoff that honours `Retry-After`, a bounded number of
 * attempts and a total deadline. Only errors that say they are retryable are retried. The defaults
 * are in defaults.ts, the reading of `Retry-After` in retry-after.ts.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { ApiError, RfbatchError, TimeoutError } from '../errors.js';
import type { RetryPolicy } from './client.types.js';
import { ROBOFLOW_API_DEFAULTS } from './defaults.js';
import { isUnanswered, type OutageTracker } from './outage.js';

export type Sleep = (ms: number) => Promise<void>;
export const realSleep: Sleep = (ms) => delay(ms);

export interface RetryHooks {
  /** What is being retried, for messages (e.g. `GET /data-staging/v1/external/ws/batches`). */
  what: string;
  /** Called before each wait. */
  onRetry?: (info: { attempt: number; delayMs: number; error: RfbatchError }) => void;
  /** Called when the server asked us to slow down (429, or any answer with `Retry-After`). */
  onRateLimited?: (retryAfterMs: number) => void;
  /** Injected in tests to record waits instead of sleeping. @defaultValue a real timer */
  sleep?: Sleep;
  /** @defaultValue performance.now */
  now?: () => number;
  /** @defaultValue Math.random */
  random?: () => number;
  /** The process's API outage (outage.ts): past its deadline a call is not retried, or not sent. */
  outage?: OutageTracker;
}

/** Full jitter: a random wait in [0, min(cap, base·2^(attempt-1))). */
export function backoffDelayMs(
  attempt: number,
  baseDelayMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(ROBOFLOW_API_DEFAULTS.maxBackoffMs, baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

function retryable(error: unknown): error is RfbatchError {
  // Unknown errors are bugs, not weather: they are not retried here.
  return error instanceof RfbatchError && error.retryable;
}

/**
 * Runs `op` until it succeeds, fails with a non-retryable error, runs out of attempts (the last error
 * is thrown) or would wait past the deadline (a TimeoutError whose cause is the last error).
 */
export async function withRetry<T>(
  op: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  hooks: RetryHooks,
): Promise<T> {
  const now = hooks.now ?? (() => performance.now());
  const sleep = hooks.sleep ?? realSleep;
  const started = now();
  for (let attempt = 1; ; attempt++) {
    const admitted = hooks.outage?.admit(hooks.what);
    try {
      const result = await op(attempt);
      hooks.outage?.settle(undefined, admitted === 'probe');
      return result;
    } catch (error) {
      hooks.outage?.settle(error, admitted === 'probe');
      if (admitted === 'probe' && hooks.outage && isUnanswered(error))
        throw hooks.outage.gaveUp(hooks.what, true);
      if (!retryable(error)) throw error;
      const retryAfterMs = error instanceof ApiError ? error.retryAfterMs : undefined;
      const waitMs = retryAfterMs ?? backoffDelayMs(attempt, policy.baseDelayMs, hooks.random);
      if (retryAfterMs !== undefined || error.status === 429) hooks.onRateLimited?.(waitMs);
      if (attempt >= policy.maxAttempts) throw error;
      const elapsedMs = now() - started;
      // The call's own deadline, and the outage's: it runs from the first unanswered call of any step.
      const outageUntil = hooks.outage?.retryUntil();
      const pastOutage = outageUntil !== undefined && Date.now() + waitMs > outageUntil;
      const pastCall = elapsedMs + waitMs > policy.deadlineMs;
      if ((pastOutage || pastCall) && hooks.outage && isUnanswered(error))
        throw hooks.outage.gaveUp(hooks.what, true);
      if (pastCall) {
        const asked =
          retryAfterMs !== undefined ? `; the server asked to wait ${formatMs(retryAfterMs)}` : '';
        throw new TimeoutError(
          `${hooks.what} did not succeed within the retry deadline of ${formatMs(policy.deadlineMs)} ` +
            `(${attempt} attempt${attempt === 1 ? '' : 's'}; last: ${error.message}${asked})`,
          {
            cause: error,
            hint: 'the API is busy or unreachable; it is safe to retry later (raise RFBATCH_RETRY_DEADLINE_MS to wait longer)',
            ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
          },
        );
      }
      hooks.onRetry?.({ attempt, delayMs: waitMs, error });
      await sleep(waitMs);
    }
  }
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${Number((ms / 1000).toFixed(1))} s` : `${Math.round(ms)} ms`;
}
