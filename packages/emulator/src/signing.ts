/**
 * Signed URLs that point back at the emulator, shaped like GCS V4 signed URLs. The signature (HMAC-SHA256
 * with a per-data-dir secret) covers the method, the path, the issue time, the lifetime and every
 * `extensionHeaders` entry, so a changed path, a missing header or a late request is refused.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { systemClock, type Clock } from './clock.js';

export interface SignRequest {
  method: 'PUT' | 'GET';
  path: string;
  ttlS: number;
  /** Headers the client must send (lower-case names are compared). */
  headers?: Record<string, string>;
  now?: Date;
}

export type VerifyResult = { ok: true } | { ok: false; status: number; code: string; message: string };

const compactDate = (d: Date) =>
  d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');

function parseCompactDate(s: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return NaN;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

export class UrlSigner {
  constructor(
    private readonly secret: string,
    private readonly baseUrl: string,
    private readonly clock: Clock = systemClock,
  ) {}

  sign(request: SignRequest): string {
    const date = compactDate(request.now ?? new Date(this.clock.now()));
    const headers = normalise(request.headers ?? {});
    const names = Object.keys(headers).sort();
    const ttl = Math.max(1, Math.round(request.ttlS));
    const url = new URL(request.path, this.baseUrl);
    url.searchParams.set('X-Goog-Algorithm', 'GOOG4-HMAC-SHA256');
    url.searchParams.set('X-Goog-Date', date);
    url.searchParams.set('X-Goog-Expires', String(ttl));
    url.searchParams.set('X-Goog-SignedHeaders', names.join(';'));
    url.searchParams.set(
      'X-Goog-Signature',
      this.mac(request.method, url.pathname, date, ttl, names, headers),
    );
    return url.toString();
  }

  verify(
    method: string,
    url: URL,
    requestHeaders: IncomingHttpHeaders,
    now = this.clock.now(),
  ): VerifyResult {
    const q = url.searchParams;
    const date = q.get('X-Goog-Date');
    const expires = Number(q.get('X-Goog-Expires'));
    const signedHeaders = q.get('X-Goog-SignedHeaders');
    const signature = q.get('X-Goog-Signature');
    if (!date || !Number.isFinite(expires) || signedHeaders === null || !signature) {
      return {
        ok: false,
        status: 403,
        code: 'MissingSecurityHeader',
        message: 'the URL is not a signed URL',
      };
    }
    const names = signedHeaders ? signedHeaders.split(';') : [];
    const sent: Record<string, string> = {};
    for (const name of names) {
      const value = requestHeaders[name];
      if (typeof value !== 'string') {
        return {
          ok: false,
          status: 403,
          code: 'SignatureDoesNotMatch',
          message: `missing signed header ${name}`,
        };
      }
      sent[name] = value;
    }
    const expected = this.mac(method, url.pathname, date, expires, names, sent);
    const a = Buffer.from(expected);
    const b = Buffer.from(signature);
    if (a.length !== b.length || !timingSafeEqual(a, b)) {
      return {
        ok: false,
        status: 403,
        code: 'SignatureDoesNotMatch',
        message: 'the request signature does not match (wrong method, path, signature or header value)',
      };
    }
    const issued = parseCompactDate(date);
    if (!Number.isFinite(issued) || now > issued + expires * 1000) {
      return { ok: false, status: 403, code: 'ExpiredToken', message: 'the signed URL has expired' };
    }
    return { ok: true };
  }

  private mac(
    method: string,
    path: string,
    date: string,
    ttl: number,
    names: string[],
    headers: Record<string, string>,
  ): string {
    const canonical = [method, path, date, String(ttl), ...names.map((n) => `${n}:${headers[n] ?? ''}`)].join(
      '\n',
    );
    return createHmac('sha256', this.secret).update(canonical).digest('hex');
  }
}

function normalise(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}
