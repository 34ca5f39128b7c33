import { ApiError, ErrorCode, RfbatchError, TimeoutError } from '../errors.js';

/** The API has not answered since `since`; calls are retried until `until` (since + the retry deadline). */
export interface ApiOutageInfo {
  since: string;
  until: string;
  /** The last failure, redacted by the caller's error (no URL query: the API key is there). */
  lastError: string;
}

/**
 * One process's view of whether the API answers. The retry deadline bounds each call, but a stage makes
 * many calls (a signed URL per shard, a poll per file…), each with a fresh deadline: against an API that
 * accepts connections and never answers, a stage took many deadlines to fail. Here the deadline runs
 * from the first unanswered call: once the API has been silent that long, every call fails at once,
 * except one probe per deadline (so a recovery is noticed), and the whole stage ends within about one
 * deadline plus one request timeout. Any HTTP answer, even an error status, ends the outage.
 */
export interface OutageTracker {
  /** Before an attempt: `probe` (the only try a call gets past the deadline), `try`, or throws. */
  admit(what: string): 'try' | 'probe';
  /** After an attempt, with its error (undefined: it succeeded). `probe` when it was admitted as one. */
  settle(error: unknown, probe: boolean): void;
  /** Epoch ms until which a retry may still start; undefined when the API answers. */
  retryUntil(): number | undefined;
  /**
   * The error of a call given up because the outage outlasted the deadline. Not retryable: the job
   * that made the call fails its stage at once (BullMQ's own attempts would add minutes of backoff),
   * and `rfbatch retry` resumes it.
   */
  gaveUp(what: string, sent: boolean): RfbatchError;
  info(): ApiOutageInfo | undefined;
}

/** Errors that mean "no answer": a timeout or a connection failure, never an HTTP status. */
export function isUnanswered(error: unknown): boolean {
  return (
    error instanceof RfbatchError &&
    !(error instanceof ApiError) &&
    (error.code === ErrorCode.network || (error instanceof TimeoutError && error.retryAfterMs === undefined))
  );
}

function formatSeconds(ms: number): string {
  return ms >= 1000 ? `${Number((ms / 1000).toFixed(1))} s` : `${ms} ms`;
}

export function createOutageTracker(
  deadlineMs: number,
  onChange?: (info: ApiOutageInfo | undefined) => void,
  now: () => number = Date.now,
): OutageTracker {
  let since: number | undefined;
  let lastError = '';
  let probing = false;
  let lastProbeAt = 0;
  const info = (): ApiOutageInfo | undefined =>
    since === undefined
      ? undefined
      : {
          since: new Date(since).toISOString(),
          until: new Date(since + deadlineMs).toISOString(),
          lastError,
        };
  const tracker: OutageTracker = {
    admit(what) {
      if (since === undefined || now() - since < deadlineMs) return 'try';
      if (!probing && now() - lastProbeAt >= deadlineMs) {
        probing = true;
        lastProbeAt = now();
        return 'probe';
      }
      throw tracker.gaveUp(what, false);
    },
    gaveUp(what, sent) {
      const at = since === undefined ? 'a while' : new Date(since).toISOString();
      const limit = `the retry deadline of ${formatSeconds(deadlineMs)}`;
      return new RfbatchError(
        ErrorCode.timeout,
        `the API has not answered since ${at} (last: ${lastError}): ${what} ${sent ? `gave up at ${limit}` : `was not sent, the outage has outlasted ${limit}`}`,
        {
          retryable: false,
          hint: 'the API is unreachable or not answering; check the network or its status page, then `rfbatch retry <run>` (a longer wait: RFBATCH_RETRY_DEADLINE_MS)',
        },
      );
    },
    settle(error, probe) {
      if (probe) probing = false;
      if (error === undefined || !isUnanswered(error)) {
        if (since !== undefined) {
          since = undefined;
          onChange?.(undefined);
        }
        return;
      }
      since ??= now();
      lastError = (error as Error).message;
      onChange?.(info());
    },
    retryUntil: () => (since === undefined ? undefined : since + deadlineMs),
    info,
  };
  return tracker;
}
