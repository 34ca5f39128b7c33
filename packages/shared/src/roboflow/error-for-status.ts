/** The typed error, with its hint, for each HTTP status the Roboflow API answers (roboflow-api.md §1). */
import { ApiError, ErrorCode } from '../errors.js';

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
