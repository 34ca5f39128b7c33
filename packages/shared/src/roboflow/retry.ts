/**
 * Retries of API calls: jittered exponential backoff that honours `Retry-After`, a bounded number of
 * attempts and a total deadline. Only errors that say they are retryable are retried.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { ApiError, RfbatchError, TimeoutError } from '../errors.js';
import type { RetryPolicy } from './client.types.js';

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 500, deadlineMs: 300_000 };

/** No single backoff (without a `Retry-After`) is longer than this. */
export const MAX_BACKOFF_MS = 30_000;

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
}

/**
 * Parses `Retry-After` (delta-seconds, possibly fractional, or an HTTP-date) into milliseconds from
 * `nowMs`. Returns undefined when the value is missing or unreadable; never negative.
 */
export function parseRetryAfter(
  value: string | string[] | undefined,
  nowMs = Date.now(),
): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return undefined;
  const text = raw.trim();
  if (text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  // An HTTP-date names its month (`Wed, 21 Oct 2015 07:28:00 GMT`); Date.parse alone takes "-5" as a year.
  if (!/[A-Za-z]{3}/.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/** Full jitter: a random wait in [0, min(cap, base·2^(attempt-1))). */
export function backoffDelayMs(
  attempt: number,
  baseDelayMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, baseDelayMs * 2 ** Math.max(0, attempt - 1));
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
    try {
      return await op(attempt);
    } catch (error) {
      if (!retryable(error)) throw error;
      const retryAfterMs = error instanceof ApiError ? error.retryAfterMs : undefined;
      const waitMs = retryAfterMs ?? backoffDelayMs(attempt, policy.baseDelayMs, hooks.random);
      if (retryAfterMs !== undefined || error.status === 429) hooks.onRateLimited?.(waitMs);
      if (attempt >= policy.maxAttempts) throw error;
      const elapsedMs = now() - started;
      if (elapsedMs + waitMs > policy.deadlineMs) {
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
