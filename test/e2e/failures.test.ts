/**
 * End to end under failure: a failed remote job and its retry, verify budgets, shard errors, a
 * malicious export archive, and cancel — each with the message a user needs and nothing lost.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pngBytes } from '@rfbatch/testkit/images';
import { writeTree } from '@rfbatch/testkit/source-tree';
import { startStack, type Stack } from '@rfbatch/testkit/stack';
import { ErrorCode } from '@rfbatch/shared';
import { cancelRun, retryRun } from '@rfbatch/run-control';

let stack: Stack;
const extra: Stack[] = [];
beforeAll(async () => {
  stack = await startStack({ jobs: { verifyTimeoutMs: 20_000, shardErrorGraceMs: 500 } });
});
afterAll(async () => {
  await stack.close();
});
afterEach(async () => {
  stack.emulator.setFaults({ jobFailure: null, maliciousExport: null, shardErrorRate: 0, slowIndexingMs: 0 });
  for (const s of extra.splice(0)) await s.close();
});

async function source(s: Stack, name: string, n: number): Promise<string> {
  const dir = join(s.workDir, name);
  const files: Record<string, Buffer> = {};
  for (let i = 0; i < n; i++) files[`d${i % 4}/p-${i}.png`] = pngBytes(`${name}-${i}`);
  await writeTree(dir, files);
  return dir;
}

async function resultLines(s: Stack, runId: string): Promise<{ status: string }[]> {
  const text = await readFile(join(s.outputDir, runId, 'results.jsonl'), 'utf8');
  return text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { status: string });
}

describe('failures', () => {
  it('a failed remote job fails the run with its reason; retry after the fix resumes without uploading again', async () => {
    stack.emulator.setFaults({ jobFailure: 'workflow-error' });
    const runId = await stack.submit({
      source: { kind: 'directory', path: await source(stack, 'fail-retry', 60) },
    });
    const failed = await stack.waitForRun(runId);
    expect(failed.status).toBe('failed');
    expect(failed.failedStage).toBe('await');
    expect(failed.error?.message).toMatch(/remote job "rfb-[0-9a-f]{16}" failed in stage "processing"/);
    expect(failed.error?.message).toMatch(/Workflow execution failed in task/);
    expect(failed.error?.hint).toMatch(new RegExp(`rfbatch retry ${runId}`));

    const spec = await stack.ctx.store.spec(runId);
    const batchBefore = stack.emulator.state().batches.find((b) => b.batchId === spec.batchId);
    const uploadedBefore = { ...failed.counters };
    stack.emulator.setFaults({ jobFailure: null });
    expect(await retryRun(stack.ctx, runId)).toEqual({
      attempt: 1,
      resumedAt: 'await',
      restartedRemoteJob: true,
    });
    const done = await stack.waitForRun(runId);
    expect(done.status).toBe('completed');
    const batchAfter = stack.emulator.state().batches.find((b) => b.batchId === spec.batchId);
    expect(batchAfter?.shards).toEqual(batchBefore?.shards);
    expect(batchAfter?.count).toBe(60);
    for (const c of ['shardsUploaded', 'filesUploaded', 'bytesUploaded', 'planned'] as const)
      expect(done.counters[c]).toBe(uploadedBefore[c]);
    const lines = await resultLines(stack, runId);
    expect(lines).toHaveLength(60);
    expect(lines.every((l) => l.status === 'ok')).toBe(true);
  });

  it('indexing slower than the verify budget fails clearly', async () => {
    const s = await startStack({
      jobs: { verifyTimeoutMs: 300 },
      emulator: { faults: { slowIndexingMs: 30_000 } },
    });
    extra.push(s);
    const runId = await s.submit({ source: { kind: 'directory', path: await source(s, 'slow', 40) } });
    const state = await s.waitForRun(runId);
    expect(state.status).toBe('failed');
    expect(state.failedStage).toBe('verify');
    expect(state.error?.message).toMatch(
      /has 0 of 40 items after .*the verify budget is 0.3 s.*indexing is probably still running/,
    );
    expect(state.error?.hint).toMatch(/rfbatch retry/);
  });

  it('a shard in error status is reported by name', async () => {
    stack.emulator.setFaults({ shardErrorRate: 1 });
    const runId = await stack.submit({
      source: { kind: 'directory', path: await source(stack, 'bad-shard', 40) },
    });
    const state = await stack.waitForRun(runId);
    expect(state.status).toBe('failed');
    expect(state.failedStage).toBe('verify');
    expect(state.error?.message).toMatch(/has 0 of 40 items .* shards \S+ \(.*\) report errors/);
  });

  it('a malicious export archive is refused, naming the entry, and nothing lands outside the output folder', async () => {
    stack.emulator.setFaults({ maliciousExport: 'traversal' });
    const runId = await stack.submit({
      source: { kind: 'directory', path: await source(stack, 'evil', 10) },
    });
    const state = await stack.waitForRun(runId);
    expect(state.status).toBe('failed');
    expect(state.failedStage).toBe('download');
    expect(state.error?.code).toBe(ErrorCode.unsafeArchive);
    expect(state.error?.message).toContain(
      'refused at entry "../../rfbatch-escape.txt": the path climbs out with ".."',
    );
    const everywhere = [
      ...(await readdir(stack.outputDir, { recursive: true })),
      ...(await readdir(stack.workDir, { recursive: true })),
    ];
    expect(everywhere.filter((p) => p.includes('rfbatch-escape'))).toEqual([]);
    expect(existsSync(join(stack.outputDir, '..', 'rfbatch-escape.txt'))).toBe(false);
  });

  it('cancel aborts the remote job; retry restarts it and finishes', async () => {
    const s = await startStack({ emulator: { processingMsPerItem: 100 }, jobs: { pollMinMs: 100 } });
    extra.push(s);
    const runId = await s.submit({ source: { kind: 'directory', path: await source(s, 'cancel', 40) } });
    await s.waitForState(runId, (st) => st.status === 'processing');
    const result = await cancelRun(s.ctx, runId);
    expect(result).toMatchObject({ cancelled: true, abortedRemoteJob: true });
    const spec = await s.ctx.store.spec(runId);
    const { state: remote } = await s.ctx.client.getJob(spec.jobId);
    expect(remote).toMatchObject({ terminal: true, error: true });
    expect((await s.ctx.store.require(runId)).status).toBe('cancelled');

    expect(await retryRun(s.ctx, runId)).toMatchObject({ resumedAt: 'await', restartedRemoteJob: true });
    const done = await s.waitForRun(runId);
    expect(done.status).toBe('completed');
    expect((await resultLines(s, runId)).filter((l) => l.status === 'ok')).toHaveLength(40);
  });
});
