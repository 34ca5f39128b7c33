import { describe, expect, it } from 'vitest';
import { formatDuration } from './format.js';

describe('formatDuration', () => {
  // Moved from services/jobs/src/wait.test.ts with the function (the jobs messages' style).
  it('formats durations for messages', () => {
    expect(formatDuration(95_000)).toBe('95 s');
    expect(formatDuration(12 * 60_000)).toBe('12 min');
    expect(formatDuration(2.5 * 3600_000)).toBe('2.5 h');
    expect(formatDuration(9_540, 'words')).toBe('9.5 s');
  });
  it('writes each caller style as before: compact CLI columns, time left, short waits', () => {
    expect(formatDuration(59_400, 'compact')).toBe('59s');
    expect(formatDuration(725_000, 'compact')).toBe('12m05s');
    expect(formatDuration(3_600_000 + 120_000, 'compact')).toBe('1h02m');
    expect(formatDuration(51 * 3600_000, 'compact')).toBe('2d03h');
    expect(formatDuration(-5_000, 'compact')).toBe('0s');
    expect(formatDuration(45 * 60_000 + 59_999, 'hours-minutes')).toBe('45 min');
    expect(formatDuration(3.5 * 3600_000, 'hours-minutes')).toBe('3 h 30 min');
    expect(formatDuration(250.4, 'precise')).toBe('250 ms');
    expect(formatDuration(1_540, 'precise')).toBe('1.5 s');
    expect(formatDuration(300_000, 'precise')).toBe('300 s');
  });
});
