/**
 * Errors of transfers to and from signed URLs (signed-url.ts, ranged-download.ts). A signed URL is a
 * credential: only its origin and path ever reach an error or a log, never its query string.
 */
import { ApiError, ErrorCode, RfbatchError } from '../errors.js';
import { summariseBody } from './summarise-body.js';

/** `https://host/path?<redacted>`: a signed URL as it may be shown. */
export function describeSignedUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}${u.search ? '?<redacted>' : ''}`;
  } catch {
    return '<an unreadable URL>';
  }
}

/** What a storage service said in its (usually XML) error body: `<Code>` and `<Message>` when present. */
export function storeSaid(text: string, contentType: string): string | undefined {
  const code = /<Code>([^<]{1,100})<\/Code>/i.exec(text)?.[1];
  const message = /<Message>([^<]{1,300})<\/Message>/i.exec(text)?.[1];
  if (code || message) return summariseBody([code, message].filter(Boolean).join(': '), 'text/plain');
  return summariseBody(text, contentType);
}

/** An HTTP error answer: 408/429/5xx retryable; 403/404/410 mean the URL expired (fetch a fresh one). */
export function transferError(
  code: ErrorCode,
  what: string,
  status: number,
  said: string | undefined,
  action: string,
): ApiError {
  const retryable = status === 408 || status === 429 || status >= 500;
  const gone = status === 403 || status === 404 || status === 410;
  return new ApiError(code, what, status, said, {
    retryable,
    hint: gone
      ? `the signed URL expired or was revoked: ${action} with a fresh URL`
      : retryable
        ? 'the storage service is busy; it is safe to retry'
        : `the storage service refused the ${code === ErrorCode.upload ? 'upload' : 'download'}`,
  });
}

/** What a download needs of an HTTP answer to report it refused. */
interface DownloadAnswer {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: { text(): Promise<string> };
}

/** A download answer that is not 2xx, as a transfer error in the storage service's own words. */
export async function refusedDownload(res: DownloadAnswer, what: string): Promise<ApiError> {
  const text = await res.body.text().catch(() => '');
  return transferError(
    ErrorCode.download,
    what,
    res.statusCode,
    storeSaid(text, String(res.headers['content-type'] ?? '')),
    'list the batch again',
  );
}

/** A transport failure of a download, under the download code (cancel and timeout keep theirs). */
export function asDownloadError(net: RfbatchError, cause: unknown): RfbatchError {
  if (net.code === ErrorCode.cancelled || net.code === ErrorCode.timeout) return net;
  return new RfbatchError(ErrorCode.download, net.message, {
    retryable: net.retryable,
    cause,
    hint: net.hint,
  });
}
