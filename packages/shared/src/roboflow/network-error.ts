/** Transport failures (no HTTP answer at all) as typed errors: resets and timeouts are retryable. */
import { ErrorCode, RfbatchError, TimeoutError } from '../errors.js';
import { redactText } from '../redact.js';

/** The hint of every request timeout, whether our own limit or undici's fired. */
export const REQUEST_TIMEOUT_HINT =
  'the API is slow or unreachable; it is retried (raise RFBATCH_REQUEST_TIMEOUT_MS if it keeps happening)';

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
      hint: REQUEST_TIMEOUT_HINT,
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
