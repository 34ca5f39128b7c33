/**
 * One HTTP call to the Roboflow API: adds `api_key`, sends JSON or a streamed body, parses the answer
 * with the caller's zod schema and turns every failure into a typed error. Retries live in retry.ts.
 */
import type { Readable } from 'node:stream';
import { request, type Dispatcher } from 'undici';
import type { z } from 'zod';
import type { Logger } from 'pino';
import { ApiError, ErrorCode, ResponseInvalidError, RfbatchError, TimeoutError } from '../errors.js';
import { redactText } from '../redact.js';
import { zodProblems } from '../validation.js';
import type { RetryPolicy, RoboflowClientOptions } from './client.types.js';
import { parseRetryAfter, realSleep, withRetry, type Sleep } from './retry.js';

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

/** Node and undici error codes after which the same request may well succeed. */
const RETRYABLE_NET_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ENETDOWN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);
const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

export function createHttp(settings: HttpSettings): Http {
  const base = settings.apiUrl.replace(/\/+$/, '');
  const sleep = settings.sleep ?? realSleep;
  const intervalMs = settings.rateLimitPerSecond ? 1000 / settings.rateLimitPerSecond : 0;
  let nextSlotAt = 0;
  /** Even spacing of requests (RFBATCH_API_RATE_LIMIT): each attempt takes the next free slot. */
  async function takeSlot(): Promise<void> {
    if (intervalMs <= 0) return;
    const now = performance.now();
    const at = Math.max(now, nextSlotAt);
    nextSlotAt = at + intervalMs;
    if (at > now) await sleep(at - now);
  }

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
    const report = (status: number) =>
      settings.onRequest?.({ endpoint, status, durationMs: performance.now() - started, attempt });

    // One precise limit for the whole exchange (undici's own timeouts are coarse, about ±0.5 s).
    const controller = new AbortController();
    const timer = setTimeout(
      () =>
        controller.abort(
          new TimeoutError(`${what} timed out after ${timeoutMs} ms`, {
            hint: 'the API is slow or unreachable; it is retried (raise RFBATCH_REQUEST_TIMEOUT_MS if it keeps happening)',
          }),
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
    let parsedBody: unknown = {};
    if (text.trim() !== '') {
      try {
        parsedBody = JSON.parse(text);
      } catch (cause) {
        const seen = summariseBody(text, contentType) ?? 'an empty body';
        throw new ResponseInvalidError(
          what,
          status,
          [{ path: '', message: `not JSON (${contentType || 'no content-type'}): ${seen}` }],
          { cause },
        );
      }
    }
    const result = options.schema.safeParse(parsedBody);
    if (!result.success) throw new ResponseInvalidError(what, status, zodProblems(result.error));
    return result.data;
  }

  return {
    call(endpoint, method, path, options) {
      const what = `${method} ${path}`;
      return withRetry((attempt) => attemptOnce(endpoint, method, path, options, attempt), settings.retry, {
        what,
        sleep: settings.sleep,
        onRateLimited: settings.onRateLimited,
        onRetry: ({ attempt, delayMs, error }) =>
          settings.logger?.warn(
            { endpoint: what, attempt, delayMs, status: error.status, code: error.code, err: error },
            'roboflow api call failed; retrying',
          ),
      });
    },
  };
}

function headerValue(value: string | string[] | undefined): string {
  return (Array.isArray(value) ? value[0] : value) ?? '';
}

/**
 * What the server said, in one short redacted line: the `error` / `message` / `error.message` of a
 * JSON body, the title of an HTML page, or the start of any other text.
 */
export function summariseBody(text: string, contentType = ''): string | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  try {
    const json: unknown = JSON.parse(trimmed);
    const said = messageOf(json);
    if (said === undefined && json !== null && typeof json === 'object' && Object.keys(json).length === 0)
      return undefined;
    return redactText(truncate(said ?? JSON.stringify(json)));
  } catch {
    // Not JSON: fall through to HTML / text.
  }
  if (/html/i.test(contentType) || /^<(!doctype|html|head|body)/i.test(trimmed)) {
    const title = /<title[^>]*>([^<]*)<\/title>/i.exec(trimmed)?.[1]?.trim();
    return redactText(title ? `an HTML page titled "${truncate(title)}"` : 'an HTML page instead of JSON');
  }
  return redactText(truncate(trimmed.replace(/\s+/g, ' ')));
}

function messageOf(json: unknown): string | undefined {
  if (typeof json === 'string') return json;
  if (!json || typeof json !== 'object') return undefined;
  const o = json as Record<string, unknown>;
  if (typeof o.error === 'string') return o.error;
  if (o.error && typeof o.error === 'object') {
    const inner = (o.error as Record<string, unknown>).message;
    if (typeof inner === 'string') return inner;
  }
  if (typeof o.message === 'string') return o.message;
  if (typeof o.detail === 'string') return o.detail;
  return undefined;
}

function truncate(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** Maps an HTTP status to a typed error with a hint. Only 408/429/502/503/504 are retryable. */
export function errorForStatus(
  what: string,
  status: number,
  said: string | undefined,
  context: {
    retryAfterMs?: number | undefined;
    resource?: string | undefined;
    workspace?: string | undefined;
  } = {},
): ApiError {
  const retryAfter = context.retryAfterMs !== undefined ? { retryAfterMs: context.retryAfterMs } : {};
  const workspace = context.workspace ? `workspace "${context.workspace}"` : 'this workspace';
  switch (status) {
    case 400:
      return new ApiError(ErrorCode.apiBadRequest, what, status, said, {
        retryable: false,
        hint: 'the API refused the request as invalid; fix what it names (ids, job body fields) and submit again',
      });
    case 401:
      return new ApiError(ErrorCode.apiUnauthorized, what, status, said, {
        retryable: false,
        hint: 'check ROBOFLOW_API_KEY: it must be the private API key of the workspace (Roboflow app → Settings → API Keys)',
      });
    case 402: {
      const plan = `batch processing is not enabled for ${workspace}: it needs a Growth or Enterprise plan`;
      return new ApiError(ErrorCode.apiPaymentRequired, what, status, said ?? plan, {
        retryable: false,
        hint: said ? plan : 'upgrade the plan, or use the API key of a workspace that has one',
      });
    }
    case 404:
      return new ApiError(ErrorCode.apiNotFound, what, status, said, {
        retryable: false,
        hint: `check that ${context.resource ?? 'it'} exists in ${workspace} (staged data expires after 7 days)`,
      });
    case 409:
      return new ApiError(ErrorCode.apiConflict, what, status, said, {
        retryable: false,
        hint: `${context.resource ?? 'the id'} is already used with a different definition: choose a new id, or resubmit the identical definition`,
      });
    case 429:
      return new ApiError(ErrorCode.apiRateLimited, what, status, said, {
        retryable: true,
        hint: 'the API is rate limiting this workspace (or its credits are short); rfbatch slows down and retries',
        ...retryAfter,
      });
    case 408:
    case 502:
    case 503:
    case 504:
      return new ApiError(ErrorCode.apiServer, what, status, said, {
        retryable: true,
        hint: 'the API or a proxy in front of it is overloaded or restarting; it is retried',
        ...retryAfter,
      });
    default:
      // 500 is not retried, as the official client does not: it is usually a request the server cannot handle.
      return new ApiError(status >= 500 ? ErrorCode.apiServer : ErrorCode.apiHttp, what, status, said, {
        retryable: false,
        hint:
          status >= 500
            ? 'the API failed on this request; if it persists, check status.roboflow.com or contact Roboflow support'
            : 'the API refused the request',
        ...retryAfter,
      });
  }
}

/** Turns a transport failure (no HTTP answer) into a typed error; resets and timeouts are retryable. */
export function networkError(error: unknown, what: string, timeoutMs?: number): RfbatchError {
  if (error instanceof RfbatchError) return error;
  const code =
    typeof error === 'object' && error !== null ? String((error as { code?: unknown }).code ?? '') : '';
  const message = redactText(error instanceof Error ? error.message : String(error));
  if (TIMEOUT_CODES.has(code)) {
    const kind =
      code === 'UND_ERR_CONNECT_TIMEOUT'
        ? 'connecting'
        : code === 'UND_ERR_BODY_TIMEOUT'
          ? 'reading the body'
          : 'waiting for an answer';
    return new TimeoutError(`${what} timed out while ${kind}${timeoutMs ? ` (limit ${timeoutMs} ms)` : ''}`, {
      cause: error,
      hint: 'the API is slow or unreachable; it is retried (raise RFBATCH_REQUEST_TIMEOUT_MS if it keeps happening)',
    });
  }
  if (code === 'ENOTFOUND') {
    return new RfbatchError(ErrorCode.network, `${what} failed: host not found (${message})`, {
      retryable: false,
      cause: error,
      hint: 'check ROBOFLOW_API_URL and the DNS of this machine',
    });
  }
  if (code === 'UND_ERR_ABORTED' || (error instanceof Error && error.name === 'AbortError')) {
    return new RfbatchError(ErrorCode.cancelled, `${what} was cancelled`, { retryable: false, cause: error });
  }
  const retryable = RETRYABLE_NET_CODES.has(code);
  return new RfbatchError(ErrorCode.network, `${what} failed: ${message}${code ? ` (${code})` : ''}`, {
    retryable,
    cause: error,
    hint: retryable
      ? 'the connection to the API broke; it is retried'
      : 'the request could not be sent; check the input file and the network settings',
  });
}
