/**
 * The timeout, retry and backoff defaults of the Roboflow client and the signed-URL transfers, written
 * once. Where the official client has a value (roboflow-api.md §1) it is the same here.
 */
import type { RetryPolicy } from './client.types.js';

/** Every default of roboflow/; the `DEFAULT_*` names below are views of it kept for importers. */
export const ROBOFLOW_API_DEFAULTS = {
  /** Limit of one API exchange, from sending to the last body byte (the official client's 60 s). */
  requestTimeoutMs: 60_000,
  /** The references ingests get this many request timeouts, as in the official client. */
  referencesTimeoutFactor: 2,
  /** Connect limit of the keep-alive Agent the client makes when none is injected. */
  connectTimeoutMs: 10_000,
  /** How long that Agent keeps an idle socket open. */
  keepAliveTimeoutMs: 30_000,
  /** Retries of API calls (see RetryPolicy): attempts in all, first backoff, total deadline. */
  retry: { maxAttempts: 5, baseDelayMs: 500, deadlineMs: 300_000 },
  /** No single backoff (without a `Retry-After`) is longer than this. */
  maxBackoffMs: 30_000,
  /** Signed transfers may be large: a long limit, per stretch of silence rather than for the whole body. */
  transferTimeoutMs: 120_000,
} as const;

/** ROBOFLOW_API_DEFAULTS.requestTimeoutMs under its older name. */
export const DEFAULT_REQUEST_TIMEOUT_MS = ROBOFLOW_API_DEFAULTS.requestTimeoutMs;
/** ROBOFLOW_API_DEFAULTS.connectTimeoutMs under its older name. */
export const DEFAULT_CONNECT_TIMEOUT_MS = ROBOFLOW_API_DEFAULTS.connectTimeoutMs;
/** A copy of ROBOFLOW_API_DEFAULTS.retry: a caller that changes it changes no client. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { ...ROBOFLOW_API_DEFAULTS.retry };
/** ROBOFLOW_API_DEFAULTS.maxBackoffMs under its older name. */
export const MAX_BACKOFF_MS = ROBOFLOW_API_DEFAULTS.maxBackoffMs;
/** ROBOFLOW_API_DEFAULTS.transferTimeoutMs under its older name. */
export const DEFAULT_TRANSFER_TIMEOUT_MS = ROBOFLOW_API_DEFAULTS.transferTimeoutMs;
