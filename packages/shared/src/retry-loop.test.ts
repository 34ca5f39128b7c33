import { describe, expect, it } from 'vitest';
import { retryLoop } from './retry-loop.js';

describe('retryLoop', () => {
  it('tries again after the pause the caller names, numbering the tries from 1', async () => {
    const pauses: number[] = [];
    const tries: number[] = [];
    const result = await retryLoop(
      async (attempt) => {
        tries.push(attempt);
        if (attempt < 3) throw new Error(`try ${attempt}`);
        return 'done';
      },
      {
        nextDelayMs: (_error, attempt) => 100 * 2 ** (attempt - 1),
        sleep: async (ms) => void pauses.push(ms),
      },
    );
    expect(result).toBe('done');
    expect(tries).toEqual([1, 2, 3]);
    expect(pauses).toEqual([100, 200]);
  });
  it('throws the error as it is when the caller says stop, or the caller’s own error', async () => {
    const stop = retryLoop(
      async (attempt) => {
        throw new Error(`try ${attempt}`);
      },
      { nextDelayMs: (_error, attempt) => (attempt < 2 ? 1 : undefined), sleep: async () => {} },
    );
    await expect(stop).rejects.toThrow('try 2');
    const own = retryLoop(
      async () => {
        throw new Error('upstream');
      },
      {
        nextDelayMs: () => {
          throw new Error('gave up');
        },
      },
    );
    await expect(own).rejects.toThrow('gave up');
  });
  it('does not pause for 0 ms, and an aborted pause rejects', async () => {
    const pauses: number[] = [];
    let n = 0;
    await retryLoop(
      async () => {
        if (n++ === 0) throw new Error('again');
      },
      { nextDelayMs: () => 0, sleep: async (ms) => void pauses.push(ms) },
    );
    expect(pauses).toEqual([]);
    const controller = new AbortController();
    controller.abort();
    const aborted = retryLoop(
      async () => {
        throw new Error('again');
      },
      { nextDelayMs: () => 60_000, signal: controller.signal },
    );
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
  });
});
