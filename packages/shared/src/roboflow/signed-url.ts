/**
 * Transfers to and from signed cloud-storage URLs (roboflow-api.md §5.1, §2.11). A signed URL is a
 * credential: only its origin and path ever reach an error or a log, never its query string.
 */
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { getGlobalDispatcher, request } from 'undici';
import { ApiError, ErrorCode, RfbatchError } from '../errors.js';
import { isNoSpace, openTempFor, writeError } from '../safe-write.js';
import type { DownloadToFile, UploadToSignedUrl } from './client.types.js';
import { ROBOFLOW_API_DEFAULTS } from './defaults.js';
import { networkError } from './network-error.js';
import {
  asDownloadError,
  describeSignedUrl,
  refusedDownload,
  storeSaid,
  transferError,
} from './transfer-error.js';
import { rangedDownload } from './ranged-download.js';
import { inSpan, setSpanAttributes, SpanKind } from '../telemetry/spans.js';

export { describeSignedUrl };

function counter(onProgress: ((bytes: number) => void) | undefined, count: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      count(chunk.length);
      onProgress?.(chunk.length);
      callback(null, chunk);
    },
  });
}

/**
 * PUTs (or `details.method`) exactly `contentLength` bytes of `body` with every extension header.
 * Not retried here (the official client does not either): a retry needs a fresh body, and often a
 * fresh URL, which only the caller can make.
 */
const uploadOnce: UploadToSignedUrl = async (details, body, contentLength, opts = {}) => {
  const method = (details.method ?? 'PUT').toUpperCase();
  const what = `${method} ${describeSignedUrl(details.uploadURL)}`;
  const timeoutMs = opts.timeoutMs ?? ROBOFLOW_API_DEFAULTS.transferTimeoutMs;
  const headers: Record<string, string> = {
    ...details.extensionHeaders,
    'content-length': String(contentLength),
  };
  let sent = 0;
  const counted = body.pipe(counter(opts.onProgress, (n) => (sent += n)));
  body.once('error', (error) => counted.destroy(error));
  let status: number;
  let text: string;
  let contentType: string;
  try {
    const res = await request(details.uploadURL, {
      dispatcher: opts.dispatcher ?? getGlobalDispatcher(),
      method: method as 'PUT',
      headers,
      body: counted,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    status = res.statusCode;
    contentType = String(res.headers['content-type'] ?? '');
    text = await res.body.text();
  } catch (error) {
    body.destroy();
    const code = (error as { code?: unknown }).code;
    if (code === 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH') {
      throw new RfbatchError(
        ErrorCode.upload,
        `${what}: the body had ${sent} bytes, not the ${contentLength} announced`,
        {
          retryable: false,
          cause: error,
          hint: 'a source file changed while it was being uploaded; leave the source unchanged and retry',
        },
      );
    }
    const net = networkError(error, what, timeoutMs);
    // Keep the transport's classification, but under the upload code.
    throw net instanceof ApiError || net.code === ErrorCode.cancelled || net.code === ErrorCode.timeout
      ? net
      : new RfbatchError(ErrorCode.upload, net.message, {
          retryable: net.retryable,
          cause: error,
          hint: net.hint,
        });
  }
  if (status < 200 || status >= 300) {
    throw transferError(
      ErrorCode.upload,
      what,
      status,
      storeSaid(text, contentType),
      'request a new upload URL and upload again',
    );
  }
};

/**
 * Streams `url` to an exclusive temp file next to `dest` (never through a planted link), checks the byte count against Content-Length and `expectedBytes`,
 * fsyncs and renames to `dest`. A 403/404/410 is an ApiError with that status and retryable=false, so
 * the caller lists the batch again for a fresh URL.
 */
/** Bytes a download buffers before writing (one writev for many network chunks). */
const WRITE_BUFFER_BYTES = 1024 * 1024;

const downloadOnce: DownloadToFile = async (url, dest, opts = {}) => {
  const what = `GET ${describeSignedUrl(url)}`;
  const timeoutMs = opts.timeoutMs ?? ROBOFLOW_API_DEFAULTS.transferTimeoutMs;
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(url, {
      dispatcher: opts.dispatcher ?? getGlobalDispatcher(),
      method: 'GET',
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (error) {
    throw asDownloadError(networkError(error, what, timeoutMs), error);
  }
  if (res.statusCode < 200 || res.statusCode >= 300) throw await refusedDownload(res, what);
  const announced = Number(res.headers['content-length'] ?? Number.NaN);
  if (Number.isFinite(announced) && opts.expectedBytes !== undefined && announced !== opts.expectedBytes) {
    await res.body.dump();
    throw new RfbatchError(
      ErrorCode.download,
      `${what} announces ${announced} bytes, but ${opts.expectedBytes} were expected`,
      {
        retryable: true,
        hint: 'the file changed on the server; list the batch again',
      },
    );
  }

  await mkdir(dirname(dest), { recursive: true });
  const { tmp: part, handle: out } = await openTempFor(dest);
  let received = 0;
  const count = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      received += chunk.length;
      opts.onProgress?.(chunk.length);
      done(null, chunk);
    },
  });
  try {
    // A stream pipeline, not an awaited write per chunk: receiving and writing overlap, and the
    // write stream hands buffered chunks to one writev.
    await pipeline(res.body, count, out.createWriteStream({ highWaterMark: WRITE_BUFFER_BYTES }));
    const expected = Number.isFinite(announced) ? announced : opts.expectedBytes;
    if (expected !== undefined && received !== expected) {
      throw new RfbatchError(ErrorCode.download, `${what} ended after ${received} of ${expected} bytes`, {
        retryable: true,
        hint: 'the connection broke mid-file; it is downloaded again',
      });
    }
    const handle = await open(part, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    await out.close().catch(() => {});
    await rm(part, { force: true });
    if (isNoSpace(error)) throw writeError(error, dest);
    throw error instanceof RfbatchError
      ? error
      : asDownloadError(networkError(error, what, timeoutMs), error);
  }
  await rename(part, dest);
  return received;
};

/** uploadOnce in a client span named after the URL's host and path (never its query). */
export const uploadToSignedUrl: UploadToSignedUrl = (details, body, contentLength, opts) => {
  const method = (details.method ?? 'PUT').toUpperCase();
  const attributes = {
    'http.request.method': method,
    'url.full': describeSignedUrl(details.uploadURL),
    'http.request.body.size': contentLength,
  };
  return inSpan(`signed-url ${method}`, { kind: SpanKind.CLIENT, attributes }, () =>
    uploadOnce(details, body, contentLength, opts),
  );
};

/** downloadOnce in a client span (URL without its query), with the bytes received. */
export const downloadToFile: DownloadToFile = (url, dest, opts) =>
  inSpan(
    'signed-url GET',
    {
      kind: SpanKind.CLIENT,
      attributes: { 'http.request.method': 'GET', 'url.full': describeSignedUrl(url) },
    },
    async () => {
      const bytes = opts?.range
        ? await rangedDownload(url, dest, opts, downloadOnce)
        : await downloadOnce(url, dest, opts);
      setSpanAttributes({ 'http.response.body.size': bytes });
      return bytes;
    },
  );
