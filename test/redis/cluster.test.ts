/**
 * Issue 17, Redis the way production runs it: a 3-master Redis Cluster on loopback. A whole run goes
 * through it with the documented hash-tagged prefix (docs/operators.md: RFBATCH_PREFIX={rfbatch},
 * RFBATCH_REDIS_MODE=cluster); a prefix without a hash tag, or a Cluster reached without cluster
 * mode, is refused at start with a message that says what to set.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeServiceContext,
  ConfigError,
  createLogger,
  createServiceContext,
  loadConfig,
  prepareServices,
  startServices,
} from '@rfbatch/shared';
import { jobsService } from '@rfbatch/jobs';
import { pngBytes } from '@rfbatch/testkit/images';
import { writeTree } from '@rfbatch/testkit/source-tree';
import { startStack, type Stack } from '@rfbatch/testkit/stack';
import { startCluster, type Topology } from './topologies.js';

let cluster: Topology & { url: string };
beforeAll(async () => {
  cluster = await startCluster();
});
afterAll(() => cluster?.stop());

describe('Redis Cluster (3 masters)', () => {
  let stack: Stack;
  afterAll(() => stack?.close());

  it('runs a whole run through the Cluster with RFBATCH_PREFIX={rfbatch}', async () => {
    stack = await startStack({
      redisUrl: cluster.url,
      prefix: '{rfbatch}',
      env: { RFBATCH_REDIS_MODE: 'cluster' },
    });
    expect((stack.ctx.connection as unknown as { isCluster?: boolean }).isCluster).toBe(true);
    const dir = join(stack.workDir, 'cl');
    const files: Record<string, Buffer> = {};
    // More than 32 images: tar shards, several of them, each a child job of the plan.
    for (let i = 0; i < 80; i++) files[`d${i % 3}/c-${i}.png`] = pngBytes(`cluster-${i}`);
    await writeTree(dir, files);
    const runId = await stack.submit({ source: { kind: 'directory', path: dir } });
    const state = await stack.waitForRun(runId, 60_000);
    expect(state.error).toBeUndefined();
    expect(state.status).toBe('completed');
    const lines = (await readFile(join(stack.outputDir, runId, 'results.jsonl'), 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(80);
    expect(lines.every((l) => (JSON.parse(l) as { status: string }).status === 'ok')).toBe(true);

    // The keys really are in the Cluster: all in the hash tag's one slot, on one of the three masters.
    const client = stack.ctx.connection as unknown as Cluster;
    const masters = client.nodes('master');
    expect(masters).toHaveLength(3);
    const counts = await Promise.all(masters.map(async (n) => (await n.keys('{rfbatch}:*')).length));
    expect(counts.filter((c) => c > 0)).toHaveLength(1);
    expect(Math.max(...counts)).toBeGreaterThan(10);
    const slot = await client.cluster('KEYSLOT', `{rfbatch}:run:${runId}`);
    expect(await client.cluster('KEYSLOT', '{rfbatch}:bull:ingest:wait')).toBe(slot);
  });

  it('refuses cluster mode with a prefix without a hash tag, naming the fix', () => {
    const load = () =>
      loadConfig({ REDIS_URL: cluster.url, RFBATCH_REDIS_MODE: 'cluster', RFBATCH_PREFIX: 'rfbatch' });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/RFBATCH_PREFIX: "rfbatch" has no hash tag.*use RFBATCH_PREFIX=\{rfbatch\}/);
  });

  it('workers started against a Cluster node without cluster mode refuse to start, naming what to set', async () => {
    const config = loadConfig({
      REDIS_URL: cluster.url,
      RFBATCH_PREFIX: 'rfbatch',
      ROBOFLOW_API_KEY: 'k',
      ROBOFLOW_API_URL: 'http://127.0.0.1:9',
    });
    const ctx = createServiceContext(config, createLogger({ level: 'silent' }));
    try {
      await expect(startServices(ctx, prepareServices([jobsService], { env: {} }))).rejects.toThrow(
        /REDIS_URL is a node of a Redis Cluster: set RFBATCH_REDIS_MODE=cluster and a hash-tagged prefix \(RFBATCH_PREFIX=\{rfbatch\}/,
      );
    } finally {
      await closeServiceContext(ctx);
    }
  });
});
