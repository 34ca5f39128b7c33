/** Small helpers for node:http handlers: JSON bodies in and out, and an error that carries its response. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { rememberBody } from './request-log.js';
import { shapedBody } from './response-shape.js';

/** Thrown by handlers; the server turns it into a response with this status, body and headers. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(
      typeof body.error === 'string'
        ? body.error
        : typeof body.message === 'string'
          ? body.message
          : `HTTP ${status}`,
    );
  }
}

/** An `{error}` response, the shape the Data Staging API documents for 4xx/5xx. */
export const httpError = (status: number, message: string, headers?: Record<string, string>): HttpError =>
  new HttpError(status, { error: message }, headers);

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(shapedBody(res, status, body));
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/** A cloud-store style XML error (what GCS/S3 answer on signed URLs). */
export function sendStorageError(res: ServerResponse, status: number, code: string, message: string): void {
  const text = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error>\n`;
  res.writeHead(status, {
    'content-type': 'application/xml; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}

const escapeXml = (s: string) => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

async function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) throw httpError(413, `request body is larger than ${limitBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The JSON body, or undefined when the body is empty. Malformed JSON is a 400 naming the problem. */
export async function readJson(req: IncomingMessage, limitBytes = 64 * 1024 * 1024): Promise<unknown> {
  const body = await readBody(req, limitBytes);
  if (body.length === 0) return undefined;
  try {
    const parsed = JSON.parse(body.toString('utf8')) as unknown;
    rememberBody(req, parsed);
    return parsed;
  } catch (err) {
    throw httpError(400, `request body is not valid JSON: ${(err as Error).message}`);
  }
}
