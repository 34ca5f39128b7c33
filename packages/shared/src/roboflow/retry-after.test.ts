import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from './retry-after.js';

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it.each([
    ['2', 2_000],
    ['0', 0],
    ['1.5', 1_500],
    [' 10 ', 10_000],
    ['Thu, 01 Jan 2026 00:00:30 GMT', 30_000],
    ['Wed, 31 Dec 2025 23:59:00 GMT', 0],
  ])('%s → %i ms', (value, ms) => {
    expect(parseRetryAfter(value, now)).toBe(ms);
  });
  it.each([undefined, '', 'soon', '-5'])('%s is unreadable', (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined();
  });
});
