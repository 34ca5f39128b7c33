import { describe, expect, it } from 'vitest';
import { UrlSigner } from './signing.js';

const signer = new UrlSigner('secret', 'http://127.0.0.1:9');

describe('UrlSigner', () => {
  it('accepts its own URL with the signed headers, within the lifetime', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const url = new URL(
      signer.sign({
        method: 'PUT',
        path: '/_storage/upload/u-1',
        ttlS: 60,
        headers: { 'Content-Type': 'application/x-tar' },
        now,
      }),
    );
    expect(url.searchParams.get('X-Goog-SignedHeaders')).toBe('content-type');
    const headers = { 'content-type': 'application/x-tar' };
    expect(signer.verify('PUT', url, headers, now.getTime() + 59_000)).toEqual({ ok: true });
    expect(signer.verify('PUT', url, headers, now.getTime() + 61_000)).toMatchObject({
      ok: false,
      status: 403,
      code: 'ExpiredToken',
    });
    expect(signer.verify('GET', url, headers, now.getTime())).toMatchObject({
      ok: false,
      code: 'SignatureDoesNotMatch',
    });
    expect(signer.verify('PUT', url, { 'content-type': 'text/plain' }, now.getTime())).toMatchObject({
      ok: false,
      code: 'SignatureDoesNotMatch',
    });
    expect(signer.verify('PUT', url, {}, now.getTime())).toMatchObject({
      ok: false,
      code: 'SignatureDoesNotMatch',
    });
  });

  it('refuses a URL signed with another secret or without its parameters', () => {
    const other = new UrlSigner('other', 'http://127.0.0.1:9');
    const url = new URL(other.sign({ method: 'GET', path: '/_storage/object/b/r', ttlS: 60 }));
    expect(signer.verify('GET', url, {})).toMatchObject({ ok: false, status: 403 });
    expect(signer.verify('GET', new URL('http://127.0.0.1:9/_storage/object/b/r'), {})).toMatchObject({
      ok: false,
      code: 'MissingSecurityHeader',
    });
  });
});
