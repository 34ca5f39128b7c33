import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { eachLimited } from './pool.js';

describe('eachLimited', () => {
  it('runs every item once, never more than `limit` at once, with its index', async () => {
    let running = 0;
    let most = 0;
    const seen: string[] = [];
    await eachLimited(['a', 'b', 'c', 'd', 'e'], 2, async (item, i) => {
      most = Math.max(most, ++running);
      await sleep(1);
      seen.push(`${i}:${item}`);
      running--;
    });
    expect(most).toBe(2);
    expect(seen.sort()).toEqual(['0:a', '1:b', '2:c', '3:d', '4:e']);
  });
  it('starts nothing after the first failure, lets the running call finish, then throws that failure', async () => {
    const started: number[] = [];
    let finished = 0;
    const run = eachLimited([0, 1, 2, 3, 4, 5], 2, async (n) => {
      started.push(n);
      if (n === 0) throw new Error('first');
      await sleep(5);
      finished++;
      if (n === 1) throw new Error('second');
    });
    await expect(run).rejects.toThrow('first');
    expect(started).toEqual([0, 1]);
    expect(finished).toBe(1);
  });
  it('uses one lane for a limit below 1, and does nothing for no items', async () => {
    const seen: number[] = [];
    await eachLimited([1, 2], 0, async (n) => void seen.push(n));
    await eachLimited([], 4, async () => void seen.push(-1));
    expect(seen).toEqual([1, 2]);
  });
});
