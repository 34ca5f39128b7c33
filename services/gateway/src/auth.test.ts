import { describe, expect, it } from 'vitest';
import { bearerToken, readCookie, safeEqual, sessionValue, tokenMatches } from './auth.js';

describe('gateway auth helpers', () => {
  it('compares strings of any length without throwing', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abcd')).toBe(false);
    expect(safeEqual('', 'x')).toBe(false);
  });

  it('reads the bearer token and nothing else', () => {
    expect(bearerToken('Bearer tok-123')).toBe('tok-123');
    expect(bearerToken('bearer  tok-123 ')).toBe('tok-123');
    expect(bearerToken('Basic dXNlcjpwYXNz')).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });

  it('matches a token against the configured ones, skipping unset ones', () => {
    expect(tokenMatches('t1', [undefined, 't1'])).toBe(true);
    expect(tokenMatches('t2', ['t1', undefined])).toBe(false);
    expect(tokenMatches(undefined, ['t1'])).toBe(false);
  });

  it('reads cookies and derives session values that are not the token', () => {
    expect(readCookie('a=1; rfbatch_board_read=xyz; b=2', 'rfbatch_board_read')).toBe('xyz');
    expect(readCookie(undefined, 'a')).toBeUndefined();
    const session = sessionValue('secret-token', 'read');
    expect(session).not.toContain('secret-token');
    expect(session).not.toBe(sessionValue('secret-token', 'admin'));
  });
});
