/**
 * The transport of the Roboflow client: one HTTP call adds `api_key`, sends JSON or a streamed body
 * under a precise timeout, and hands the answer to errorForStatus or parseResponse. Every failure is a
 * typed error; retries (retry.ts) wrap each call.
 */
import { inSpan, setSpanAttributes, SpanKind } from '../telemetry/spans.js';
import type { Readable } from 'node:stream';
import { request, type Dispatcher } from 'undici';
import type { z } from 'zod';
import type { Logger } from 'pino';
import { TimeoutError } from '../errors.js';
import type { RetryPolicy, RoboflowClientOptions } from './client.types.js';
import { errorForStatus } from './error-for-status.js';
import { networkError, REQUEST_TIMEOUT_HINT } from './network-error.js';
import { parseResponse } from './parse-response.js';
import { createRequestSpacer } from './request-spacing.js';
import { parseRetryAfter } from './retry-after.js';
import { createOutageTracker } from './outage.js';
import { realSleep, withRetry, type Sleep } from './retry.js';
import { summariseBody } from './summarise-body.js';

export type HttpMethod = 'GET' | 'POST';

/** A request body that is streamed; made afresh for every attempt. */
export interface StreamBody {
  stream: Readable;
  lengthBytes: number;
  contentType: string;
}

export interface CallOptions<S extends z.ZodType> {
  query?: Record<string, string | number | undefined>;
  /** A JSON body (sent with `Content-Type: application/json`). */
  json?: unknown;
  /** A streamed body; called once per attempt. */
  body?: () => StreamBody;
  /** The shape the answer must have. */
  schema: S;
  /** Overrides the client's request timeout (the references ingests take twice as long). */
  timeoutMs?: number;
  /** What the path names, for the hint of a 404 (e.g. `batch "cats"`). */
  resource?: string;
  /** The workspace in the path, for the hint of a 402. */
  workspace?: string;
}

export interface HttpSettings {
  apiUrl: string;
  apiKey: string;
  dispatcher: Dispatcher;
  requestTimeoutMs: number;
  retry: RetryPolicy;
  logger?: Logger | undefined;
  onRateLimited?: RoboflowClientOptions['onRateLimited'];
  onRequest?: RoboflowClientOptions['onRequest'];
  onOutage?: RoboflowClientOptions['onOutage'];
  sleep?: Sleep | undefined;
  /** Requests per second at most (0 = unlimited). */
  rateLimitPerSecond?: number | undefined;
}

export interface Http {
  /**
   * Calls `method path` and returns the parsed answer. `endpoint` is the path template (for metrics);
   * errors name the real path, never the query string.
   */
  call<S extends z.ZodType>(
    endpoint: string,
    method: HttpMethod,
    path: string,
    options: CallOptions<S>,
  ): Promise<z.output<S>>;
}

/** The transport of one client; its settings are fixed for its lifetime. */
export function createHttp(settings: HttpSettings): Http {
  const base = settings.apiUrl.replace(/\/+$/, '');
  // Each attempt, retries included, takes the next free slot.
  const takeSlot = createRequestSpacer(settings.rateLimitPerSecond, settings.sleep ?? realSleep);
  // One per client: an API that stops answering bounds every step by one retry deadline (outage.ts).
  const outage = createOutageTracker(settings.retry.deadlineMs, settings.onOutage);

  async function attemptOnce<S extends z.ZodType>(
    endpoint: string,
    method: HttpMethod,
    path: string,
    options: CallOptions<S>,
    attempt: number,
  ): Promise<z.output<S>> {
    const what = `${method} ${path}`;
    await takeSlot();
    const url = new URL(base + path);
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    url.searchParams.set('api_key', settings.apiKey);

    const headers: Record<string, string> = { accept: 'application/json' };
    let body: string | Readable | undefined;
    if (options.body) {
      const made = options.body();
      body = made.stream;
      headers['content-type'] = made.contentType;
      headers['content-length'] = String(made.lengthBytes);
    } else if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] = 'application/json';
    }

    const timeoutMs = options.timeoutMs ?? settings.requestTimeoutMs;
    const started = performance.now();
    const report = (status: number) => {
      setSpanAttributes({ 'http.response.status_code': status, 'http.request.resend_count': attempt - 1 });
      settings.onRequest?.({ endpoint, status, durationMs: performance.now() - started, attempt });
    };

    // One precise limit for the whole exchange (undici's own timeouts are coarse, about ±0.5 s).
    const controller = new AbortController();
    const timer = setTimeout(
      () =>
        controller.abort(
          new TimeoutError(`${what} timed out after ${timeoutMs} ms`, { hint: REQUEST_TIMEOUT_HINT }),
        ),
      timeoutMs,
    );
    let status: number;
    let responseHeaders: Record<string, string | string[] | undefined>;
    let text: string;
    try {
      const res = await request(url, {
        dispatcher: settings.dispatcher,
        method,
        headers,
        body: body ?? null,
        signal: controller.signal,
      });
      status = res.statusCode;
      responseHeaders = res.headers;
      text = await res.body.text();
    } catch (error) {
      report(0);
      if (body && typeof body !== 'string') body.destroy();
      throw networkError(error, what, timeoutMs);
    } finally {
      clearTimeout(timer);
    }
    report(status);
    settings.logger?.debug(
      { endpoint, status, attempt, durationMs: Math.round(performance.now() - started) },
      'roboflow api call',
    );

    const contentType = headerValue(responseHeaders['content-type']);
    if (status < 200 || status >= 300) {
      throw errorForStatus(what, status, summariseBody(text, contentType), {
        retryAfterMs: parseRetryAfter(responseHeaders['retry-after']),
        resource: options.resource,
        workspace: options.workspace,
      });
    }
    return parseResponse(what, status, text, contentType, options.schema);
  }

  return {
    call(endpoint, method, path, options) {
      const what = `${method} ${path}`;
      // One client span per call, retries inside; the URL without its query (the API key is there).
      const attributes = { 'http.request.method': method, 'url.template': endpoint, 'url.full': base + path };
      return inSpan(endpoint, { kind: SpanKind.CLIENT, attributes }, () =>
        withRetry((attempt) => attemptOnce(endpoint, method, path, options, attempt), settings.retry, {
          what,
          sleep: settings.sleep,
          outage,
          onRateLimited: settings.onRateLimited,
          onRetry: ({ attempt, delayMs, error }) =>
            settings.logger?.warn(
              { endpoint: what, attempt, delayMs, status: error.status, code: error.code, err: error },
              'roboflow api call failed; retrying',
            ),
        }),
      );
    },
  };
}

function headerValue(value: string | string[] | undefined): string {
  return (Array.isArray(value) ? value[0] : value) ?? '';
}
