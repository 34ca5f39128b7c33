/** The test clock: timers run when time is advanced past them, in time order, and zero delays run soon. */
import { describe, expect, it } from 'vitest';
import { sleep } from './clock.js';
import { ManualClock } from './manual-clock.js';

describe('ManualClock', () => {
  it('runs timers in time order as it advances, and not before', async () => {
    const clock = new ManualClock(1_000);
    const ran: string[] = [];
    clock.setTimeout(() => ran.push(`b@${clock.now()}`), 200);
    clock.setTimeout(() => ran.push(`a@${clock.now()}`), 100);
    const cancelled = clock.setTimeout(() => ran.push('cancelled'), 150);
    cancelled.cancel();
    await clock.advance(99);
    expect(ran).toEqual([]);
    await clock.advance(150);
    expect(ran).toEqual(['a@1100', 'b@1200']);
    expect(clock.now()).toBe(1_249);
  });

  it('repeats intervals until cancelled, and runs a zero delay without advancing', async () => {
    const clock = new ManualClock(0);
    let ticks = 0;
    const interval = clock.setInterval(() => (ticks += 1), 1_000);
    await clock.advance(3_500);
    expect(ticks).toBe(3);
    interval.cancel();
    await clock.advance(5_000);
    expect(ticks).toBe(3);
    await sleep(clock, 0);
    expect(clock.now()).toBe(8_500);
  });

  it('advances until a condition holds, or a promise settles', async () => {
    const clock = new ManualClock(0);
    await clock.settle(sleep(clock, 250), { stepMs: 100 });
    expect(clock.now()).toBe(300);
    let woken = false;
    clock.setTimeout(() => (woken = true), 1_000);
    expect(await clock.runUntil(() => (woken ? clock.now() : undefined), { stepMs: 400 })).toBe(1_500);
    await expect(clock.settle(Promise.reject(new Error('boom')))).rejects.toThrow('boom');
  });
});
