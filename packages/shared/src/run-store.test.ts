import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { cleanupPrefix, testPrefix, testRedisUrl } from '@rfbatch/testkit/redis';
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

  it('reports each end of a run once: not a late status after it, nor a second failure', async () => {
    const ended: string[] = [];
    const counting = new RunStore(redis, prefix, {
      onEnded: (runId, status) => ended.push(`${runId}:${status}`),
    });
    await counting.create({ ...spec(), runId: 'r2' });
    await counting.setStatus('r2', 'uploading');
    await counting.fail('r2', 'upload', { code: 'x', message: 'first' });
    await counting.fail('r2', 'upload', { code: 'x', message: 'second' });
    await counting.setStatus('r2', 'cancelled');
    expect(ended).toEqual(['r2:failed']);
    await counting.reopen('r2', 'processing');
    await counting.setStatus('r2', 'completed');
    expect(ended).toEqual(['r2:failed', 'r2:completed']);
  });
});

describe('RunStore secrets', () => {
  it('keeps the notifications URL apart: redacted in the stored spec, whole only from spec()', async () => {
    const url = 'https://hooks.example.com/hooks/t0k3n-t0k3n?sig=abc';
    const withHook = resolveRunSpec(
      RunSpecSchema.parse({
        runId: 'r-hook',
        source: { kind: 'directory', path: '/data' },
        workflow: { workflowId: 'wf' },
        output: { dir: '/out' },
        notifications: { url, categories: ['files-status'] },
      }),
    );
    expect(await store.create(withHook)).toBe(true);
    const stored = await redis.hget(store.key('r-hook'), 'spec');
    expect(stored).not.toContain('t0k3n');
    expect(JSON.parse(stored!).notifications).toEqual({
      url: 'https://hooks.example.com/<redacted>',
      categories: ['files-status'],
    });
    expect(await redis.get(store.key('r-hook', 'notifications'))).toBe(url);
    expect((await store.spec('r-hook')).notifications).toEqual({ url, categories: ['files-status'] });
  });
});
