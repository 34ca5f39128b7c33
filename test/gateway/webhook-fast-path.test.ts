/**
 * The webhook fast path, end to end: the emulator calls the gateway when a shard is indexed and when
 * the job ends; the gateway promotes the waiting verify/await jobs. The jobs service polls only every
 * 10 minutes here, so the run can only finish within the test's time because of the webhooks.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pngBytes } from '@rfbatch/testkit/images';
import { writeTree } from '@rfbatch/testkit/source-tree';
import { startStack, type Stack } from '@rfbatch/testkit/stack';

const POLL_MS = 600_000;
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    gateway: true,
    // Indexing takes long enough that verify's first look finds the batch incomplete and waits.
    emulator: { webhooks: true, indexingDelayMs: 1_500, processingMsPerItem: 20 },
    jobs: { pollMinMs: POLL_MS, pollMaxMs: POLL_MS },
  });
}, 60_000);
afterAll(() => stack.close());

describe('webhooks promote the waiting jobs', () => {
  it('finishes a run although the jobs service would poll only every 10 minutes', async () => {
    const source = join(stack.workDir, 'hooked');
    // More than 32 images: tar shards, which carry notification_config.json (ingest notifications).
    await writeTree(
      source,
      Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`d${i % 2}/img-${i}.png`, pngBytes(i)])),
    );
    const runId = await stack.submit({ source: { kind: 'directory', path: source } });
    const state = await stack.waitForRun(runId, 45_000);
    expect(state.error).toBeUndefined();
    expect(state.status).toBe('completed');
    const lines = (await readFile(join(stack.outputDir, runId, 'results.jsonl'), 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(40);

    // The ingest and the job notification reached the gateway and were answered 2xx (no redelivery).
    const state2 = (await fetch(`${stack.emulator.url}/__emulator/state`).then((r) => r.json())) as {
      webhooks: { delivered: number; failedAttempts: number };
    };
    expect(state2.webhooks.delivered).toBeGreaterThanOrEqual(2);
    expect(state2.webhooks.failedAttempts).toBe(0);
  });
});
