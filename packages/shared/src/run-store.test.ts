import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { cleanupPrefix, testPrefix, testRedisUrl } from './testing.js';
import { RunStore } from './run-store.js';
import { resolveRunSpec, RunSpecSchema } from './run-spec.schema.js';

const prefix = testPrefix('store');
let redis: Redis;
let store: RunStore;

beforeAll(() => {
  redis = new Redis(testRedisUrl());
  store = new RunStore(redis, prefix);
});
afterAll(async () => {
  await cleanupPrefix(prefix);
  redis.disconnect();
});

const spec = () =>
  resolveRunSpec(
    RunSpecSchema.parse({
      runId: 'r1',
      source: { kind: 'directory', path: '/data' },
      workflow: { workflowId: 'wf' },
      output: { dir: '/out' },
    }),
  );

describe('RunStore', () => {
  it('creates a run once and keeps counters, warnings and timings', async () => {
    expect(await store.create(spec())).toBe(true);
    expect(await store.create(spec())).toBe(false);
    await store.incr('r1', 'planned', 5);
    await store.incr('r1', 'planned', 2);
    await store.warn('r1', 'see https://x.test/u?X-Goog-Signature=abc');
    await store.stageStarted('r1', 'plan');
    await store.stageEnded('r1', 'plan');
    const state = await store.require('r1');
    expect(state.status).toBe('queued');
    expect(state.counters.planned).toBe(7);
    expect(state.counters.indexed).toBe(0);
    expect(state.warnings).toEqual(['see https://x.test/u?<redacted>']);
    expect(state.timings.plan?.endedAt).toBeDefined();
    expect(await store.list()).toEqual(['r1']);
  });

  it('never leaves a terminal status except by reopen', async () => {
    await store.setStatus('r1', 'processing');
    await store.fail('r1', 'await', { code: 'x', message: 'job failed' });
    expect(await store.setStatus('r1', 'exporting')).toBe(false);
    expect((await store.require('r1')).status).toBe('failed');
    expect((await store.require('r1')).failedStage).toBe('await');
    const attempt = await store.reopen('r1', 'processing');
    const state = await store.require('r1');
    expect(attempt).toBe(1);
    expect(state.status).toBe('processing');
    expect(state.error).toBeUndefined();
  });
});
