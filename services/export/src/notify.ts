import { redactUrl, retryLoop } from '@rfbatch/shared';

export interface NotifyOptions {
  attempts: number;
  timeoutMs: number;
  /** First pause between tries; doubles each time. @defaultValue 500 */
  retryDelayMs?: number;
}

export type NotifyOutcome =
  { ok: true; status: number; attempts: number } | { ok: false; reason: string; attempts: number };

const RETRY_STATUSES = new Set([408, 425, 429, 500, 502, 503, 504]);

/**
 * POSTs the run summary as JSON to the run's `notify` URL. Connection failures, timeouts, 408, 429 and
 * 5xx are tried again; any other answer is final. Never throws: a receiver that is down must not fail
 * a finished run. The reason never shows the URL's query string.
 */
export async function postSummary(
  url: string,
  summary: unknown,
  options: NotifyOptions,
): Promise<NotifyOutcome> {
  const body = JSON.stringify(summary);
  const where = redactUrl(url);
  let reason = '';
  const post = async (attempt: number): Promise<NotifyOutcome> => {
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'rfbatch' },
        body,
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch (error) {
      const cause =
        error instanceof Error
          ? ((error.cause as Error | undefined)?.message ?? error.message)
          : String(error);
      reason = `${where} could not be reached: ${cause}`;
      throw error;
    }
    await res.arrayBuffer().catch(() => undefined);
    if (res.ok) return { ok: true, status: res.status, attempts: attempt };
    reason = `${where} answered ${res.status}`;
    if (!RETRY_STATUSES.has(res.status)) return { ok: false, reason, attempts: attempt };
    throw new Error(reason); // worth another try
  };
  try {
    return await retryLoop(post, {
      nextDelayMs: (_error, attempt) =>
        attempt < options.attempts ? (options.retryDelayMs ?? 500) * 2 ** (attempt - 1) : undefined,
    });
  } catch {
    return { ok: false, reason: `${reason} (after ${options.attempts} tries)`, attempts: options.attempts };
  }
}
