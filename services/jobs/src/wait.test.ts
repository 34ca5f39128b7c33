import { describe, expect, it } from 'vitest';
import { pollDelayMs } from './wait.js';

describe('pollDelayMs', () => {
  it('grows from the minimum by half each poll up to the maximum', () => {
    const delays = Array.from({ length: 12 }, (_, polls) => pollDelayMs(polls, 1_000, 30_000));
    expect(delays.slice(0, 4)).toEqual([1_000, 1_500, 2_250, 3_375]);
    expect(delays.every((d, i) => i === 0 || d >= (delays[i - 1] ?? 0))).toBe(true);
    expect(delays.at(-1)).toBe(30_000);
  });
});
