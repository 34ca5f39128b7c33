import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Constant-time string comparison. Both sides are hashed first, so neither the length nor the content
 * of the secret leaks through the time the comparison takes.
 */
export function safeEqual(given: string, expected: string): boolean {
  const a = createHmac('sha256', 'rfbatch-compare').update(given).digest();
  const b = createHmac('sha256', 'rfbatch-compare').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const match = value ? /^Bearer\s+(\S+)\s*$/i.exec(value) : null;
  return match?.[1];
}

/** True when `token` equals one of the configured tokens (undefined entries are skipped). */
export function tokenMatches(token: string | undefined, accepted: Array<string | undefined>): boolean {
  if (!token) return false;
  // Compare against every candidate (no early exit) so timing does not tell which one matched.
  let ok = false;
  for (const candidate of accepted) if (candidate && safeEqual(token, candidate)) ok = true;
  return ok;
}

/** The value of one cookie from a `Cookie` header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

/** A cookie value derived from a token (the token itself never goes into the cookie). */
export function sessionValue(token: string, scope: string): string {
  return createHmac('sha256', token).update(`rfbatch-board:${scope}`).digest('hex');
}
