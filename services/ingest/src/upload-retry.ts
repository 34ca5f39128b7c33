import { ApiError, isRetryable, retryLoop, type Logger } from '@rfbatch/shared';

/** An upload error a fresh signed URL may cure: a transient one, or an expired/revoked URL. */
function worthAnotherUrl(error: unknown): boolean {
  if (error instanceof ApiError && error.status !== undefined && [403, 404, 410].includes(error.status))
    return true;
  return isRetryable(error);
}

/**
 * Runs `attempt` (which must ask for a fresh signed URL and a fresh body each time) up to `tries`
 * times while the failure is worth another URL; the last error is thrown for BullMQ to judge.
 */
export async function withFreshUrl<T>(
  tries: number,
  log: Logger,
  what: string,
  attempt: (n: number) => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  return retryLoop(attempt, {
    nextDelayMs: (error, n) => {
      if (n >= tries || !worthAnotherUrl(error) || signal?.aborted) return undefined;
      // The server's Retry-After when it gave one, else 250 ms doubling per try.
      const waitMs =
        error instanceof ApiError && error.retryAfterMs !== undefined
          ? error.retryAfterMs
          : 250 * 2 ** (n - 1);
      log.warn({ err: error, try: n, waitMs }, `${what} failed; trying again with a fresh signed URL`);
      return waitMs;
    },
    ...(signal ? { signal } : {}),
  });
}
