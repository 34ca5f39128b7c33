import type { JobTriage } from './triage.schema.js';
/**
 * One small error hierarchy for all of rfbatch. Every error has a stable `code`, says whether a retry
 * can help (`retryable`), and carries a `hint`: what the user should do about it.
 * Messages never contain secrets: build them from redacted values (see redact.ts).
 */
export const ErrorCode = {
  config: 'config.invalid',
  validation: 'input.invalid',
  source: 'source.invalid',
  apiUnauthorized: 'api.unauthorized',
  apiPaymentRequired: 'api.payment_required',
  apiNotFound: 'api.not_found',
  apiConflict: 'api.conflict',
  apiBadRequest: 'api.bad_request',
  apiRateLimited: 'api.rate_limited',
  apiServer: 'api.server_error',
  apiHttp: 'api.http_error',
  apiResponseInvalid: 'api.response_invalid',
  network: 'net.error',
  timeout: 'net.timeout',
  upload: 'upload.failed',
  download: 'download.failed',
  unsafeArchive: 'archive.unsafe',
  storage: 'storage.failed',
  run: 'run.failed',
  cancelled: 'run.cancelled',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface RfbatchErrorOptions {
  retryable?: boolean;
  status?: number;
  hint?: string;
  cause?: unknown;
}

export class RfbatchError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly status: number | undefined;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: RfbatchErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.status = options.status;
    this.hint = options.hint;
  }

  /** The message followed by the hint, as shown to users. */
  describe(): string {
    return this.hint ? `${this.message} — ${this.hint}` : this.message;
  }

  toJSON(): { code: ErrorCode; message: string; hint?: string; status?: number; retryable: boolean } {
    return {
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      ...(this.hint ? { hint: this.hint } : {}),
      ...(this.status !== undefined ? { status: this.status } : {}),
    };
  }
}

export interface FieldProblem {
  /** Dotted path of the field, e.g. `compute.workersPerMachine`, or the variable name. */
  path: string;
  message: string;
}

/** Input that cannot be used as given (a RunSpec, CLI arguments, a request body). Never retryable. */
export class ValidationError extends RfbatchError {
  readonly problems: FieldProblem[];
  constructor(what: string, problems: FieldProblem[], hint?: string) {
    const list = problems.map((p) => `${p.path || '(root)'}: ${p.message}`).join('; ');
    super(ErrorCode.validation, `invalid ${what}: ${list}`, { hint });
    this.problems = problems;
  }
}

/** Bad environment configuration: lists every bad variable at once. */
export class ConfigError extends RfbatchError {
  readonly problems: FieldProblem[];
  constructor(problems: FieldProblem[]) {
    const list = problems.map((p) => `${p.path}: ${p.message}`).join('\n  ');
    super(ErrorCode.config, `invalid configuration:\n  ${list}`, {
      hint: 'fix the environment variables above and start again',
    });
    this.problems = problems;
  }
}

/** An HTTP answer from the Roboflow API (or a signed-URL store) that is not a success. */
export class ApiError extends RfbatchError {
  /** `METHOD /path` of the call, with no query string. */
  readonly endpoint: string;
  /** What the server said (`error` or `message` of its body), redacted. */
  readonly serverMessage: string | undefined;
  /** Seconds the server asked us to wait, when it sent `Retry-After`. */
  readonly retryAfterMs: number | undefined;

  constructor(
    code: ErrorCode,
    endpoint: string,
    status: number,
    serverMessage: string | undefined,
    options: { retryable: boolean; hint?: string; retryAfterMs?: number; cause?: unknown },
  ) {
    const said = serverMessage ? `: ${serverMessage}` : '';
    super(code, `${endpoint} answered ${status}${said}`, { ...options, status });
    this.endpoint = endpoint;
    this.serverMessage = serverMessage;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * An operation that ran out of time: one request timed out, or a retry deadline passed. Retryable:
 * later (a BullMQ retry, after the rate limit lifts) the same call may well succeed.
 */
export class TimeoutError extends RfbatchError {
  /** How long the server last asked us to wait (`Retry-After`), when it did. */
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options: { hint?: string; cause?: unknown; retryAfterMs?: number } = {}) {
    super(ErrorCode.timeout, message, { ...options, retryable: true });
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * A 2xx answer whose body is not what the API reference promises (a missing or mistyped field, or no
 * JSON at all). Never retryable: the same call would get the same body.
 */
export class ResponseInvalidError extends ApiError {
  readonly problems: FieldProblem[];
  constructor(endpoint: string, status: number, problems: FieldProblem[], options: { cause?: unknown } = {}) {
    const list = problems.map((p) => `${p.path ? `field "${p.path}"` : 'body'}: ${p.message}`).join('; ');
    super(ErrorCode.apiResponseInvalid, endpoint, status, undefined, {
      retryable: false,
      hint: 'the API answered in a shape rfbatch does not know; check ROBOFLOW_API_URL points at the Roboflow API, and report it if it does',
      cause: options.cause,
    });
    this.message = `${endpoint} answered ${status} with an unexpected body: ${list}`;
    this.problems = problems;
  }
}

/** True when a retry of the same operation may succeed. Unknown errors are assumed transient. */
export function isRetryable(error: unknown): boolean {
  return error instanceof RfbatchError ? error.retryable : true;
}

/** A short, user-facing one-liner for any thrown value. */
export function describeError(error: unknown): string {
  if (error instanceof RfbatchError) return error.describe();
  if (error instanceof Error) return error.message;
  return String(error);
}

/** A failed remote job, with its triage for the run error (services/jobs `runErrorOf` keeps it). */
export class RemoteJobFailedError extends RfbatchError {
  readonly triage: JobTriage;
  constructor(message: string, triage: JobTriage, hint: string) {
    super(ErrorCode.run, message, { hint });
    this.triage = triage;
  }
}
