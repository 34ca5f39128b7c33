import { ErrorCode, RfbatchError } from '@rfbatch/shared';

/** Why a storage call failed, in words a user can act on. */
export type StoreProblem =
  'no-bucket' | 'not-found' | 'access-denied' | 'wrong-region' | 'no-credentials' | 'unreachable' | 'failed';

const HINTS: Record<StoreProblem, string> = {
  'no-bucket': 'check the bucket/container name in the URL and the account or endpoint it is looked up in',
  'not-found': 'the object was listed but is gone; re-run to list the bucket again',
  'access-denied':
    'give the credentials rfbatch runs with read access to the source (list + get) and write access to the output and work prefixes',
  'wrong-region':
    "set AWS_REGION to the bucket's region (R2 wants AWS_REGION=auto) or AWS_ENDPOINT_URL to the store's endpoint",
  'no-credentials':
    'give credentials the SDK way: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE for s3://, GOOGLE_APPLICATION_CREDENTIALS for gs://, AZURE_STORAGE_CONNECTION_STRING (or AZURE_STORAGE_ACCOUNT with AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN) for az://',
  unreachable: 'check the endpoint (AWS_ENDPOINT_URL, the connection string) and the network; it is retried',
  failed: 'see the message; it is retried when the store says it may help',
};

/** A failed storage call. Messages name the object (`s3://bucket/key`), never a credential or a presigned URL. */
export class ObjectStoreError extends RfbatchError {
  readonly problem: StoreProblem;
  constructor(
    problem: StoreProblem,
    message: string,
    options: { cause?: unknown; retryable?: boolean; hint?: string } = {},
  ) {
    super(ErrorCode.storage, message, {
      hint: options.hint ?? HINTS[problem],
      retryable: options.retryable ?? (problem === 'unreachable' || problem === 'failed'),
      cause: options.cause,
    });
    this.problem = problem;
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** The network error code of `error` or of its causes (`ECONNREFUSED`…), if any. */
export function networkCodeOf(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    const errors = (e as { errors?: unknown[] }).errors;
    if (Array.isArray(errors)) {
      const inner = errors.map(networkCodeOf).find(Boolean);
      if (inner) return inner;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** A short, secret-free description of an SDK error: its name/code and status only. */
export function sdkSummary(error: unknown): string {
  const e = error as {
    name?: string;
    code?: string;
    statusCode?: number;
    $metadata?: { httpStatusCode?: number };
  };
  const status = e.$metadata?.httpStatusCode ?? e.statusCode;
  const name = e.code && e.code !== e.name ? `${e.name ?? 'Error'} ${e.code}` : (e.name ?? 'Error');
  return status ? `${name} (HTTP ${status})` : name;
}
