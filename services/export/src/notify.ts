import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import {
  guardedLookup,
  literalTargetRefused,
  NotifyTargetRefused,
  parseNotifyAllow,
  redactNotifyUrl,
  retryLoop,
  type NotifyAllowList,
} from '@rfbatch/shared';

export interface NotifyOptions {
  attempts: number;
  timeoutMs: number;
  /** First pause between tries; doubles each time. @defaultValue 500 */
  retryDelayMs?: number;
  /** Private targets allowed anyway (config.notify.allow). @defaultValue none: public targets only */
  allow?: NotifyAllowList;
}

export type NotifyOutcome =
  | { ok: true; status: number; attempts: number }
  | {
      ok: false;
      /** For the run's warning: the same words whatever went wrong (no port or address oracle). */
      reason: string;
      /** For the worker's own log only: what happened (status, connection error, refusal). */
      detail: string;
      attempts: number;
    };

const RETRY_STATUSES = new Set([408, 425, 429, 500, 502, 503, 504]);

/** One POST; resolves with the status, rejects on a connection problem, a timeout or a refused target. */
function postOnce(url: URL, body: string, options: NotifyOptions, allow: NotifyAllowList): Promise<number> {
  if (literalTargetRefused(url, allow))
    return Promise.reject(new NotifyTargetRefused(`${url.hostname} is a private address`));
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<number>((resolve, reject) => {
    const req = send(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'user-agent': 'rfbatch',
        },
        // Every address the name resolves to is checked at connect time, and no agent reuses a socket.
        lookup: guardedLookup(allow, port) as never,
        agent: false,
        timeout: options.timeoutMs,
      },
      (res) => {
        // A redirect is an answer like any other (never followed): it is not a 2xx.
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * POSTs the run summary as JSON to the run's `notify` URL. Connection failures, timeouts, 408, 429 and
 * 5xx are tried again; any other answer is final; a redirect is never followed. A loopback, link-local
 * or private target (by address, or by what its name resolves to when sending) is refused unless
 * allow-listed. Never throws: a receiver that is down must not fail a finished run. The run is told
 * one neutral sentence whatever went wrong (a closed port and a refused one read the same); the
 * details are for the worker's log, and neither shows the URL's path or query.
 */
export async function postSummary(
  url: string,
  summary: unknown,
  options: NotifyOptions,
): Promise<NotifyOutcome> {
  const body = JSON.stringify(summary);
  const target = new URL(url);
  const allow = options.allow ?? parseNotifyAllow('');
  const reason = `no receiver at ${redactNotifyUrl(url)} accepted it`;
  let detail = '';
  let tries = 0;
  const post = async (attempt: number): Promise<NotifyOutcome> => {
    tries = attempt;
    let status: number;
    try {
      status = await postOnce(target, body, options, allow);
    } catch (error) {
      detail =
        error instanceof NotifyTargetRefused
          ? `refused target: ${error.message} (RFBATCH_NOTIFY_ALLOW)`
          : `not reached: ${(error as Error).message}`;
      if (error instanceof NotifyTargetRefused) return { ok: false, reason, detail, attempts: attempt };
      throw error;
    }
    if (status >= 200 && status < 300) return { ok: true, status, attempts: attempt };
    detail = `answered ${status}`;
    if (!RETRY_STATUSES.has(status)) return { ok: false, reason, detail, attempts: attempt };
    throw new Error(detail); // worth another try
  };
  try {
    return await retryLoop(post, {
      nextDelayMs: (_error, attempt) =>
        attempt < options.attempts ? (options.retryDelayMs ?? 500) * 2 ** (attempt - 1) : undefined,
    });
  } catch {
    return { ok: false, reason, detail: `${detail} (after ${tries} tries)`, attempts: tries };
  }
}
