/**
 * Workers killed with SIGKILL — while verify waits, while await waits, and mid-download — and
 * replaced by new processes: every run still completes, with one result per source file.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pngBytes } from '@rfbatch/testkit/images';
import { writeTree } from '@rfbatch/testkit/source-tree';
import { startStack, type SpawnedWorkers, type Stack } from '@rfbatch/testkit/stack';
import { stageJobId } from '@rfbatch/shared';

const CHILD = {
  jobs: { lockDurationMs: 2_000 },
  export: { lockDurationMs: 2_000, filesPerJob: 1, downloadConcurrency: 1, concurrency: 1 },
};

let stack: Stack;
/** The worker processes now running; a test kills one and puts a fresh one in its place. */
const current: Partial<Record<'jobs' | 'export', SpawnedWorkers>> = {};

async function spawn(name: 'jobs' | 'export'): Promise<SpawnedWorkers> {
  const w = stack.spawnWorkers([name], CHILD);
  current[name] = w;
  await w.ready;
  return w;
}

beforeAll(async () => {
  // Only ingest runs in this process; jobs and export run in child processes that the tests kill.
  stack = await startStack({ jobs: false, export: false, emulator: { processingMsPerItem: 40 } });
  await Promise.all([spawn('jobs'), spawn('export')]);
});
afterEach(() => {
  stack.emulator.setFaults({ slowIndexingMs: 0, latencyMs: 0, pathPrefix: '', firstN: null });
});
afterAll(async () => {
  await Promise.all(Object.values(current).map((w) => w.kill()));
  await stack.close();
});

async function submit(name: string, n: number): Promise<string> {
  const dir = join(stack.workDir, name);
  const files: Record<string, Buffer> = {};
  for (let i = 0; i < n; i++) files[`k-${i}.png`] = pngBytes(`${name}-${i}`);
  await writeTree(dir, files);
  return stack.submit({ source: { kind: 'directory', path: dir }, upload: { shardMaxImages: 10 } });
}

async function expectComplete(runId: string, n: number): Promise<void> {
  const state = await stack.waitForRun(runId, 90_000);
  expect(state.error).toBeUndefined();
  expect(state.status).toBe('completed');
  expect(state.counters.downloadsDone).toBe(state.counters.downloadsTotal);
  const lines = (await readFile(join(stack.outputDir, runId, 'results.jsonl'), 'utf8')).trim().split('\n');
  expect(lines).toHaveLength(n);
  const results = lines.map((l) => JSON.parse(l) as { status: string; source: string });
  expect(results.every((r) => r.status === 'ok')).toBe(true);
  // Nothing duplicated: one line per source.
  expect(new Set(results.map((r) => r.source)).size).toBe(n);
}

/** Every path under `dir` that is a temp file or a staging folder (a partial file left visible). */
async function partials(dir: string): Promise<string[]> {
  const all = await readdir(dir, { recursive: true });
  return all.filter((p) => /(^|\/)\.[^/]*\.tmp$|\.partial-[0-9a-f]+(\/|$)/.test(p));
}

describe('SIGKILL', () => {
  it('of the jobs worker while verify waits for indexing', async () => {
    stack.emulator.setFaults({ slowIndexingMs: 2_500 });
    const jobs = current.jobs as SpawnedWorkers;
    const runId = await submit('kill-verify', 40);
    await stack.waitForState(runId, (s) => s.status === 'verifying');
    const verifyId = stageJobId('verify', runId);
    for (let i = 0; i < 200; i++) {
      const job = await stack.ctx.queues.jobs.getJob(verifyId);
      if ((job?.data as { wait?: { polls: number } } | undefined)?.wait?.polls) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(await jobs.kill('SIGKILL')).toBe('SIGKILL');
    await spawn('jobs');
    await expectComplete(runId, 40);
  });

  it('of the jobs worker while await follows the remote job', async () => {
    const jobs = current.jobs as SpawnedWorkers;
    const runId = await submit('kill-await', 40);
    await stack.waitForState(runId, (s) => s.status === 'processing' && s.job?.state === 'processing');
    expect(await jobs.kill('SIGKILL')).toBe('SIGKILL');
    await spawn('jobs');
    await expectComplete(runId, 40);
  });

  it('of the export worker mid-download', async () => {
    const exporter = current.export as SpawnedWorkers;
    const runId = await submit('kill-download', 40);
    // Uploads are done once the job runs; from then on every download is slow (one at a time), so
    // the worker is surely in the middle of one when it dies.
    await stack.waitForState(runId, (s) => s.status === 'processing', 60_000);
    stack.emulator.setFaults({ pathPrefix: '/_storage/', latencyMs: 600 });
    await stack.waitForState(
      runId,
      (s) => s.counters.downloadsDone >= 1 || s.finishedAt !== undefined,
      30_000,
    );
    expect(await exporter.kill('SIGKILL')).toBe('SIGKILL');
    const before = await stack.ctx.store.require(runId);
    expect(before.status).toBe('exporting');
    expect(before.counters.downloadsDone).toBeLessThan(before.counters.downloadsTotal);
    stack.emulator.setFaults({ latencyMs: 0 });
    await spawn('export');
    await expectComplete(runId, 40);
    const out = join(stack.outputDir, runId);
    expect(await partials(out)).toEqual([]);
    // Each archive's content is there once: its prediction lines, 40 in all, none twice.
    const outputs = (await readdir(out, { recursive: true })).filter(
      (p) => p.endsWith('.jsonl') && p.startsWith('outputs/'),
    );
    const predictions: string[] = [];
    for (const p of outputs) predictions.push(...(await readFile(join(out, p), 'utf8')).trim().split('\n'));
    expect(predictions).toHaveLength(40);
    expect(new Set(predictions).size).toBe(40);
  });
});
