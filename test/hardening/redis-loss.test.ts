/**
 * Issue 14, point 5: Redis loses everything mid-run (FLUSHALL on the test's private Redis). The run
 * is not gone: the work dir holds its spec, manifest and plan, the API its batch and job.
 * - the follower and `retry` say plainly that the run's state was lost, and how to rebuild it;
 * - `recoverRun` (`rfbatch recover`) rebuilds it and resumes it: nothing the batch already holds is
 *   uploaded again, and the run completes with one result per file;
 * - a run whose remote job was running resumes at await.
 */
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followRun } from '@rfbatch/cli';
import { startExport } from '@rfbatch/export';
import { startIngest } from '@rfbatch/ingest';
import { startJobs } from '@rfbatch/jobs';
import { recoverRun, retryRun } from '@rfbatch/run-control';
import { spawnRedis, type ServiceContext } from '@rfbatch/shared';
import { pngBytes } from '@rfbatch/testkit/images';
import { writeTree } from '@rfbatch/testkit/source-tree';
import { FAST_OPTIONS, startStack, type Stack } from '@rfbatch/testkit/stack';

let redis: Awaited<ReturnType<typeof spawnRedis>>;
beforeAll(async () => {
  redis = await spawnRedis();
});
afterAll(async () => {
  await redis?.stop();
});

async function flushAll(): Promise<void> {
  const admin = new Redis(redis.url);
  await admin.flushall();
  admin.disconnect();
}

async function shardsOf(ctx: ServiceContext, batchId: string): Promise<number> {
  let n = 0;
  for await (const _ of ctx.client.listShards(batchId)) n++;
  return n;
}

async function startAll(stack: Stack) {
  stack.services.push(
    await startIngest(stack.ctx, { concurrency: 4, ...FAST_OPTIONS.ingest }),
    await startJobs(stack.ctx, FAST_OPTIONS.jobs),
    await startExport(stack.ctx, FAST_OPTIONS.export),
  );
}

describe('Redis loss', () => {
  it('after the uploads: said plainly, then recovered without uploading again', async () => {
    // Only ingest runs: the run uploads its 5 shards and waits at verify, where Redis loses it.
    const stack = await startStack({ redisUrl: redis.url, jobs: false, export: false });
    try {
      const source = join(stack.workDir, 'src');
      await writeTree(
        source,
        Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`p/img-${i}.png`, pngBytes(i, 0, 4)])),
      );
      const runId = await stack.submit({
        runId: 'r-lost-upload',
        source: { kind: 'directory', path: source },
        upload: { shardMaxImages: 10, singleUploadMaxImages: 0 },
      });
      await stack.waitForState(runId, (s) => s.status === 'verifying', 60_000);
      const spec = await stack.ctx.store.spec(runId);
      // Every shard is uploaded; the last may still be indexing (recover waits for it).
      expect(await shardsOf(stack.ctx, spec.batchId)).toBe(5);

      const following = followRun(stack.ctx.store, runId, {
        signal: new AbortController().signal,
        pollMs: 20,
      });
      await stack.stopServices();
      await flushAll();
      await expect(following).rejects.toThrow(
        /the state of run r-lost-upload was lost from Redis while it was verifying/,
      );
      await expect(retryRun(stack.ctx, runId)).rejects.toThrow(
        /the state of run "r-lost-upload" was lost from Redis .*work dir still holds/,
      );

      const result = await recoverRun(stack.ctx, runId);
      expect(result).toMatchObject({ resumedAt: 'plan', unitsInBatch: 5, units: 5, batchItems: 50 });
      await expect(recoverRun(stack.ctx, runId)).rejects.toThrow(/is known .*nothing to recover/);
      await startAll(stack);
      const state = await stack.waitForRun(runId, 60_000);
      expect(state.status).toBe('completed');
      expect(state.counters.results).toBe(50);
      expect(state.warnings.join('\n')).toMatch(/state of this run was lost from Redis and rebuilt/);
      // Nothing was uploaded twice (before: re-submitting grew the batch to twice its files).
      expect(await stack.ctx.client.countBatch(spec.batchId)).toBe(50);
      expect(await shardsOf(stack.ctx, spec.batchId)).toBe(5);
    } finally {
      await stack.close();
    }
  });

  it('while the remote job runs: recovered at await, then completes', async () => {
    const stack = await startStack({
      redisUrl: redis.url,
      export: false,
      emulator: { processingMsPerItem: 150 },
    });
    try {
      const source = join(stack.workDir, 'src');
      await writeTree(
        source,
        Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`img-${i}.png`, pngBytes(i, 1, 4)])),
      );
      const runId = await stack.submit({ runId: 'r-lost-job', source: { kind: 'directory', path: source } });
      await stack.waitForState(runId, (s) => s.status === 'processing', 60_000);
      const spec = await stack.ctx.store.spec(runId);
      await stack.stopServices();
      await flushAll();
      const result = await recoverRun(stack.ctx, runId);
      expect(result.resumedAt).toBe('await');
      expect(['processing', 'exporting']).toContain(result.status);
      await startAll(stack);
      const state = await stack.waitForRun(runId, 60_000);
      expect(state.status).toBe('completed');
      expect(state.counters.results).toBe(12);
      expect(await stack.ctx.client.countBatch(spec.batchId)).toBe(12);
    } finally {
      await stack.close();
    }
  });
});
