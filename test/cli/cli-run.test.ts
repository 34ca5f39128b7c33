/**
 * `rfbatch run --json` end to end on the emulator with the workers in the CLI's own process (no
 * worker runs for this prefix, so it goes local), then status/ls and the remote inspection commands
 * on what that run left behind.
 */
import { readdir, readFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pngBytes } from '@rfbatch/testkit/images';
import { writeTree } from '@rfbatch/testkit/source-tree';
import { startStack, type Stack } from '@rfbatch/testkit/stack';
import { cli } from './cli-harness.js';

let stack: Stack;
let env: Record<string, string>;
let source: string;
let out: string;
let runId: string;
let summary: { runId: string; state: string; batchId: string; jobId: string; counts: Record<string, number> };

const IMAGES = 40;

beforeAll(async () => {
  // Emulator and Redis prefix only: the CLI brings its own workers.
  stack = await startStack({ ingest: false, jobs: false, export: false });
  const { ROBOFLOW_API_KEY: _key, ...rest } = stack.env;
  // No API key: the emulator is local, so the CLI needs none.
  env = { ...rest, RFBATCH_POLL_MIN_MS: '100', RFBATCH_POLL_MAX_MS: '400', LOG_LEVEL: 'error' };
  source = join(stack.workDir, 'images');
  const files: Record<string, Buffer> = {};
  for (let i = 0; i < IMAGES; i++) files[`folder-${i % 3}/deeper/img-${Math.floor(i / 3)}.png`] = pngBytes(i);
  await writeTree(source, files);
  out = join(stack.outputDir, 'cli-run');
}, 60_000);
afterAll(() => stack.close());

describe('rfbatch run', () => {
  it('runs a folder end to end with --json: stdout is exactly summary.json, exit 0', async () => {
    const res = await cli(['run', source, '--workflow', 'wf-cli', '--out', out, '--json'], env);
    expect(res.stderr).not.toMatch(/^rfbatch: /m);
    expect(res.code).toBe(0);
    const fileText = await readFile(join(out, 'summary.json'), 'utf8');
    expect(res.stdout.trim()).toBe(fileText.trim());
    summary = JSON.parse(res.stdout) as typeof summary;
    runId = summary.runId;
    expect(summary.state).toBe('completed');
    expect(summary.counts.results).toBe(IMAGES);
    const lines = (await readFile(join(out, 'results.jsonl'), 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(IMAGES);
    // Progress went to stderr as plain lines (not a terminal), ending with the completed status.
    expect(res.stderr).toMatch(/no worker is running for ingest, jobs, export/);
    expect(res.stderr).toMatch(/completed\n/);
  });

  it('shows the run in status (human and JSON) and ls', async () => {
    const human = await cli(['status', runId], env);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`run ${runId}  completed`);
    expect(human.stdout).toContain(`${IMAGES}/${IMAGES} items indexed`);
    expect(human.stdout).toContain(join(out, 'results.jsonl'));

    const json = await cli(['status', '--json'], env);
    expect(json.code).toBe(0);
    const view = JSON.parse(json.stdout) as {
      runId: string;
      status: string;
      counters: Record<string, number>;
      expiry: { batch?: { secondsLeft: number } };
    };
    expect(view.runId).toBe(runId);
    expect(view.status).toBe('completed');
    expect(view.counters.planned).toBe(IMAGES);

    const ls = await cli(['ls', '--json'], env);
    expect((JSON.parse(ls.stdout) as { runs: Array<{ runId: string; status: string }> }).runs).toContainEqual(
      expect.objectContaining({ runId, status: 'completed' }),
    );
    const table = await cli(['ls'], env);
    expect(table.stdout.split('\n')[0]).toMatch(/^RUN\s+STATUS\s+CREATED\s+FILES\s+RESULTS\s+SOURCE$/);
    expect(table.stdout).toContain(runId);
  });

  it('inspects the remote batch and job like the official CLI', async () => {
    const batches = JSON.parse((await cli(['batches', 'ls', '--json'], env)).stdout) as {
      batches: Array<{ batchId: string }>;
    };
    expect(batches.batches.map((b) => b.batchId)).toContain(summary.batchId);
    const count = await cli(['batches', 'count', summary.batchId], env);
    expect(count.stdout.trim()).toBe(String(IMAGES));
    const show = await cli(['batches', 'show', summary.batchId], env);
    expect(show.stdout).toContain(`batch ${summary.batchId}`);
    const shards = JSON.parse((await cli(['batches', 'shards', summary.batchId, '--json'], env)).stdout) as {
      shards: Array<{ shardObjectsCount: number }>;
    };
    expect(shards.shards.reduce((n, s) => n + s.shardObjectsCount, 0)).toBe(IMAGES);

    const jobs = JSON.parse((await cli(['jobs', 'ls', '--json'], env)).stdout) as {
      jobs: Array<{ jobId: string }>;
    };
    expect(jobs.jobs.map((j) => j.jobId)).toContain(summary.jobId);
    const job = JSON.parse((await cli(['jobs', 'show', summary.jobId, '--json'], env)).stdout) as {
      state: { state: string };
    };
    expect(job.state.state).toBe('completed');
    const stages = JSON.parse((await cli(['jobs', 'stages', summary.jobId, '--json'], env)).stdout) as {
      stages: Array<{ processingStageName: string; outputBatches: string[] }>;
    };
    expect(stages.stages.map((s) => s.processingStageName)).toEqual(['processing', 'export']);
    const tasks = await cli(['jobs', 'tasks', summary.jobId, 'processing', '--json'], env);
    expect(tasks.code).toBe(0);
    expect((JSON.parse(tasks.stdout) as { tasks: unknown[] }).tasks.length).toBeGreaterThan(0);
    const logs = await cli(['jobs', 'logs', summary.jobId], env);
    expect(logs.code).toBe(0);

    // Export the job's export-stage output batch, archives extracted safely.
    const exportBatch = stages.stages.find((s) => s.processingStageName === 'export')?.outputBatches[0] ?? '';
    const dir = await mkdtemp(join(tmpdir(), 'rfb-cli-export-'));
    const exported = await cli(['batches', 'export', exportBatch, '--out', dir, '--json'], env);
    expect(exported.code).toBe(0);
    const files = (JSON.parse(exported.stdout) as { files: Array<{ local: string; extracted?: number }> })
      .files;
    expect(files.length).toBeGreaterThan(0);
    expect(exported.stdout).not.toContain('downloadURL');
    expect(files.some((f) => (f.extracted ?? 0) > 0)).toBe(true);
    expect((await readdir(dir, { recursive: true })).length).toBeGreaterThan(files.length);
  });

  it('asks before aborting a job, and needs --yes without a terminal', async () => {
    const noTty = await cli(['jobs', 'abort', summary.jobId], env);
    expect(noTty.code).toBe(2);
    expect(noTty.stderr).toContain('add --yes to confirm');
    const declined = await cli(['jobs', 'abort', summary.jobId], env, { confirm: async () => false });
    expect(declined.code).toBe(1);
    expect(declined.stderr).toContain('not confirmed; nothing was done');
  });
});
