/**
 * Issue 17: Sentinel. A master, a replica and a Sentinel on loopback; the services reach Redis through
 * the Sentinel (RFBATCH_REDIS_MODE=sentinel). The master is killed (SIGKILL) while the remote job
 * runs; the Sentinel promotes the replica, the workers follow it, and the run completes with one
 * result per file.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pngBytes } from '@rfbatch/testkit/images';
import { writeTree } from '@rfbatch/testkit/source-tree';
import { startStack, type Stack } from '@rfbatch/testkit/stack';
import { waitFor } from '@rfbatch/testkit/wait-for';
import { startSentinel, type Server, type Topology } from './topologies.js';

const NAME = 'rfbt-master';
let topo: Topology & { url: string; master: Server; replica: Server; sentinel: Server };
beforeAll(async () => {
  topo = await startSentinel(NAME);
});
afterAll(() => topo?.stop());

describe('Redis Sentinel', () => {
  let stack: Stack;
  afterAll(() => stack?.close());

  it('the master dies mid-run; the workers follow the failover and the run completes', async () => {
    stack = await startStack({
      redisUrl: topo.url,
      env: { RFBATCH_REDIS_MODE: 'sentinel', RFBATCH_REDIS_SENTINEL_NAME: NAME },
      // The job runs for about 4 s: long enough to kill the master while it does.
      emulator: { processingMsPerItem: 100 },
    });
    const dir = join(stack.workDir, 'sen');
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 40; i++) files[`s-${i}.png`] = pngBytes(`sentinel-${i}`);
    await writeTree(dir, files);
    const runId = await stack.submit({ source: { kind: 'directory', path: dir } });
    await stack.waitForState(runId, (s) => s.status === 'processing', 30_000);

    await topo.master.kill();
    const sentinel = new Redis(topo.sentinel.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
    try {
      // The Sentinel names the replica as the master once it has failed over.
      await waitFor(
        async () => {
          const [, port] = (await sentinel.call('SENTINEL', 'get-master-addr-by-name', NAME)) as [
            string,
            string,
          ];
          return Number(port) === topo.replica.port ? true : undefined;
        },
        30_000,
        'the Sentinel to promote the replica',
        200,
      );
    } finally {
      sentinel.disconnect();
    }

    const state = await stack.waitForRun(runId, 90_000);
    expect(state.error).toBeUndefined();
    expect(state.status).toBe('completed');
    const lines = (await readFile(join(stack.outputDir, runId, 'results.jsonl'), 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(40);
    expect(lines.every((l) => (JSON.parse(l) as { status: string }).status === 'ok')).toBe(true);
    // The run state now lives on the promoted replica.
    const promoted = new Redis(topo.replica.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
    try {
      expect(await promoted.hget(`${stack.prefix}:run:${runId}`, 'status')).toBe('completed');
    } finally {
      promoted.disconnect();
    }
  }, 150_000);
});
