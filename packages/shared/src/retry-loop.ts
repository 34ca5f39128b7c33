/**
 * The loop under every retry: try, and after a failure ask the caller whether (and after how long) to
 * try again. `withRetry` (roboflow/retry.ts) is the Roboflow API's policy; uploads to signed URLs,
 * downloads and the notify POST bring their own rules (which errors, which pauses, which counters) and
 * keep only them, not a copy of the loop.
 */
import { setTimeout as delay } from 'node:timers/promises';

export interface RetryLoopOptions {
  /**
   * After failed try number `attempt` (from 1): the pause in ms before the next try, or undefined to
   * throw `error` as it is. It may also throw an error of its own instead. A pause of 0 is no pause.
   */
  nextDelayMs: (error: unknown, attempt: number) => number | undefined;
  /** Ends a pause early: the pause rejects with the abort reason. */
  signal?: AbortSignal;
  /** Injected in tests to record pauses instead of waiting. @defaultValue a real timer */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const realSleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  delay(ms, undefined, signal ? { signal } : {});

/** Runs `op` until it succeeds or `nextDelayMs` says to stop; the first try is number 1. */
export async function retryLoop<T>(
  op: (attempt: number) => Promise<T>,
  options: RetryLoopOptions,
): Promise<T> {
  const sleep = options.sleep ?? realSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await op(attempt);
    } catch (error) {
      const waitMs = options.nextDelayMs(error, attempt);
      if (waitMs === undefined) throw error;
      if (waitMs > 0) await sleep(waitMs, options.signal);
    }
  }
}
