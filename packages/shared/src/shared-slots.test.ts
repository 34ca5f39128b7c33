import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { cleanupPrefix, testPrefix, testRedisUrl } from '@rfbatch/testkit/redis';
import { RfbatchError } from './errors.js';
import { SharedSlots, type SharedSlotsOptions } from './shared-slots.js';

const prefix = testPrefix('slots');
const connections: Redis[] = [];
const connect = () => {
  const redis = new Redis(testRedisUrl());
  connections.push(redis);
  return redis;
};
let n = 0;
const slotsOn = (redis: Redis, options: Partial<SharedSlotsOptions> & { key: string }) =>
  new SharedSlots(redis, { limit: 3, what: 'test slots', setting: 'TEST_SLOTS', pollMs: 20, ...options });
const freshKey = () => `${prefix}:slots:k${n++}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const never = () => new Promise<never>(() => {});
/** Waits (bounded) until `n` slots of `slots`' set are held: a holder has really taken its slot. */
async function untilHeld(slots: SharedSlots, n: number): Promise<void> {
  for (const deadline = Date.now() + 5_000; (await slots.held()) !== n; await sleep(10))
    if (Date.now() > deadline) throw new Error(`${n} slots were not held within 5 s`);
}

beforeAll(() => {
  connect();
});
afterAll(async () => {
  await cleanupPrefix(prefix);
  for (const c of connections) c.disconnect();
});

describe('slots shared through Redis', () => {
  it('lets at most `limit` holders of several processes work at once, and every one gets its turn', async () => {
    const key = freshKey();
    // Three "processes": three connections, three instances, 15 holders each.
    const fleets = [connect(), connect(), connect()].map((redis) => slotsOn(redis, { key, limit: 4 }));
    let now = 0;
    let most = 0;
    const finished: number[] = [];
    await Promise.all(
      fleets.flatMap((slots, f) =>
        Array.from({ length: 15 }, (_, k) =>
          slots.hold(async () => {
            most = Math.max(most, ++now);
            await sleep(10 + ((f * 7 + k * 13) % 30));
            now--;
            finished.push(f * 100 + k);
          }),
        ),
      ),
    );
    expect(finished).toHaveLength(45);
    expect(most).toBe(4);
    expect(await fleets[0]!.held()).toBe(0);
  });

  it('gives back the slot when the work throws, and passes the error on', async () => {
    const key = freshKey();
    const slots = slotsOn(connections[0]!, { key, limit: 1 });
    await expect(slots.hold(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await slots.hold(() => Promise.resolve('next'))).toBe('next');
  });

  it("frees a killed holder's slot when its lease runs out", async () => {
    const key = freshKey();
    const dying = connect();
    const dead = slotsOn(dying, { key, limit: 1, leaseMs: 400 });
    void dead.hold(never).catch(() => {});
    const live = slotsOn(connections[0]!, { key, limit: 1, leaseMs: 400 });
    await untilHeld(live, 1);
    dying.disconnect(); // the process is gone: nothing renews its lease
    const started = Date.now();
    expect(await live.hold(() => Promise.resolve('mine'))).toBe('mine');
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(150);
    expect(waited).toBeLessThan(5_000);
  });

  it('keeps a live holder past its lease by renewing it', async () => {
    const key = freshKey();
    // Renewed every 200 ms, a lease of 600 ms has 400 ms of slack for a loaded machine.
    const a = slotsOn(connect(), { key, limit: 1, leaseMs: 600 });
    const b = slotsOn(connect(), { key, limit: 1, leaseMs: 600, maxWaitMs: 1_800 });
    let release!: () => void;
    const held = a.hold(() => new Promise<void>((r) => (release = r)));
    await untilHeld(a, 1);
    // b waits three leases' time and never gets in while a renews.
    await expect(b.hold(() => Promise.resolve())).rejects.toThrow(
      /no free slot among the 1 shared test slots/,
    );
    release();
    await held;
    expect(await b.hold(() => Promise.resolve('b'))).toBe('b');
  });

  it('a holder whose lease was lost takes it back only while a slot is free, and says so when none is', async () => {
    const key = freshKey();
    let lost = 0;
    const a = slotsOn(connect(), { key, limit: 1, leaseMs: 300, onLeaseLost: () => lost++ });
    const b = slotsOn(connect(), { key, limit: 1, leaseMs: 300 });
    let releaseA!: () => void;
    const heldA = a.hold(() => new Promise<void>((r) => (releaseA = r)));
    await untilHeld(a, 1);
    await connections[0]!.del(key); // Redis lost the set: a's slot is gone
    let releaseB!: () => void;
    const heldB = b.hold(() => new Promise<void>((r) => (releaseB = r)));
    await untilHeld(b, 1);
    // a renews (every 100 ms), finds its lease gone and the set full, and says so.
    for (const deadline = Date.now() + 5_000; lost === 0 && Date.now() < deadline;) await sleep(20);
    expect(await b.held()).toBe(1);
    expect(lost).toBeGreaterThan(0);
    releaseA();
    releaseB();
    await Promise.all([heldA, heldB]);
    await sleep(20);
    expect(await b.held()).toBe(0);
  });

  it('ends a wait at its bound with a retryable error naming the setting', async () => {
    const key = freshKey();
    const holder = slotsOn(connections[0]!, { key, limit: 2 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const held = [holder.hold(() => gate), holder.hold(() => gate)];
    await untilHeld(holder, 2);
    const waiter = slotsOn(connect(), { key, limit: 2, maxWaitMs: 250 });
    // The second of this process's waiters queues behind the first: both end at their own bound.
    const outcomes = await Promise.allSettled([
      waiter.hold(() => Promise.resolve()),
      waiter.hold(() => Promise.resolve()),
    ]);
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      const error = (outcome as PromiseRejectedResult).reason as RfbatchError;
      expect(error).toBeInstanceOf(RfbatchError);
      expect(error.retryable).toBe(true);
      expect(error.message).toContain('after waiting 250 ms');
      expect(error.hint).toContain('TEST_SLOTS');
    }
    release();
    await Promise.all(held);
  });

  it('stops waiting when the job is aborted, taking no slot', async () => {
    const key = freshKey();
    const holder = slotsOn(connections[0]!, { key, limit: 1 });
    let release!: () => void;
    const held = holder.hold(() => new Promise<void>((r) => (release = r)));
    await untilHeld(holder, 1);
    const waiter = slotsOn(connect(), { key, limit: 1 });
    const controller = new AbortController();
    let ran = 0;
    const first = waiter.hold(async () => void ran++, controller.signal);
    const second = waiter.hold(async () => void ran++, controller.signal);
    await sleep(80);
    controller.abort(new Error('job cancelled'));
    await expect(first).rejects.toThrow('job cancelled');
    await expect(second).rejects.toThrow('job cancelled');
    release();
    await held;
    expect(ran).toBe(0);
    expect(await waiter.held()).toBe(0);
  });
});
