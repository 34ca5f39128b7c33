/**
 * A run over a link that caps every connection (the emulator's `throttleBytesPerSecond`), with many
 * shards in flight at once and archives fetched over ranged GETs: every source file still gets exactly
 * one result line, and nothing is staged twice.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pngBytes } from '@rfbatch/testkit/images';
import { writeTree } from '@rfbatch/testkit/source-tree';
import { startStack, type Stack } from '@rfbatch/testkit/stack';

let stack: Stack;
let most = 0;
beforeAll(async () => {
  stack = await startStack({
    emulator: { throttleBytesPerSecond: 150_000 },
    export: { rangeConnections: 4, rangeMinBytes: 64 * 1024 },
  });
});
afterAll(async () => {
  await stack.close();
});

describe('a capped link', () => {
  it('with 40 shards in flight, gives every source exactly one result', async () => {
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 480; i++) files[`c${i % 6}/img ${i}.png`] = pngBytes(`capped-${i}`, 3_000);
    const dir = join(stack.workDir, 'capped');
    await writeTree(dir, files);
    const runId = await stack.submit({
      source: { kind: 'directory', path: dir },
      upload: { shardMaxImages: 12 },
    });
    // Count the shard jobs that are active at once while the uploads go on.
    const sampling = setInterval(() => {
      void stack.ctx.queues.ingest
        .getActiveCount()
        .then((n) => (most = Math.max(most, n)))
        .catch(() => {});
    }, 50);
    const state = await stack.waitForRun(runId, 120_000).finally(() => clearInterval(sampling));
    expect(state.error).toBeUndefined();
    expect(state.status).toBe('completed');
    expect(state.counters).toMatchObject({ expected: 480, shardsUploaded: 40, filesUploaded: 480 });
    expect(most).toBeGreaterThanOrEqual(8);

    const lines = (await readFile(join(stack.outputDir, runId, 'results.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { source: string; status: string });
    expect(lines).toHaveLength(480);
    expect(new Set(lines.map((l) => l.source))).toEqual(new Set(Object.keys(files)));
    expect(lines.every((l) => l.status === 'ok')).toBe(true);
    const spec = await stack.ctx.store.spec(runId);
    expect(await stack.ctx.client.countBatch(spec.batchId)).toBe(480);
  });
});
