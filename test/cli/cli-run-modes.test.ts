/**
 * The run modes on what the API already holds, through the CLI with its own workers on the emulator
 * (official response shape): `rfbatch stage` stages a folder and stops once indexed (no job); `rfbatch
 * run --batch` runs a Workflow on that batch, sending the job body the official client sends for the
 * same flags; `rfbatch run --job` adopts a job started with the typed client outside any run and
 * writes its results keyed by remote name.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRoboflowClient } from '@rfbatch/shared';
import { imageJobBody } from '@rfbatch/testkit/emulator';
import { pngBytes } from '@rfbatch/testkit/images';
import { writeTree } from '@rfbatch/testkit/source-tree';
import { startStack, type Stack } from '@rfbatch/testkit/stack';
import { cli } from './cli-harness.js';

let stack: Stack;
let env: Record<string, string>;
let source: string;
const IMAGES = 40;

beforeAll(async () => {
  stack = await startStack({
    ingest: false,
    jobs: false,
    export: false,
    emulator: { responseShape: 'official' },
  });
  env = { ...stack.env, RFBATCH_POLL_MIN_MS: '100', RFBATCH_POLL_MAX_MS: '400', LOG_LEVEL: 'error' };
  source = join(stack.workDir, 'images');
  const files: Record<string, Buffer> = {};
  for (let i = 0; i < IMAGES; i++) files[`f-${i % 2}/img-${i}.png`] = pngBytes(`mode-${i}`);
  await writeTree(source, files);
}, 60_000);
afterAll(() => stack.close());

const lines = async (file: string) =>
  (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { source: string; remoteName: string; status: string });

describe('run modes', () => {
  it('stage, then run --batch with the official job flags: the exact job body, results keyed by remote name', async () => {
    const staged = await cli(['stage', source, '--batch-id', 'staged-one', '--json'], env, {
      cwd: stack.workDir,
    });
    expect(staged.stderr).not.toMatch(/^rfbatch: /m);
    expect(staged.code).toBe(0);
    // Without --out the run files go to ./rfbatch-results/<run id> of the cwd (here a temp folder).
    expect(await readdir(join(stack.workDir, 'rfbatch-results'))).toHaveLength(1);
    const report = JSON.parse(staged.stdout) as { batchId: string; count: number; shards: unknown[] };
    expect(report).toMatchObject({ batchId: 'staged-one', count: IMAGES });
    expect(stack.emulator.state().jobs).toHaveLength(0);

    const params = join(stack.workDir, 'params.json');
    await writeFile(params, JSON.stringify({ threshold: 0.4, classes: ['a'] }));
    stack.emulator.clearRequests();
    const out = join(stack.outputDir, 'from-batch');
    const ran = await cli(
      [
        'run',
        '--batch',
        'staged-one',
        '--workflow',
        'wf-x',
        '--job-id',
        'job-from-batch',
        '--workflow-params',
        params,
        '--inference-backend',
        'inference-models',
        '--save-image-outputs',
        '--image-outputs-to-save',
        'vis',
        '--machine-size',
        'm',
        '--out',
        out,
        '--json',
      ],
      env,
    );
    expect(ran.stderr).toMatch(/--machine-size is deprecated.*--workers-per-machine 2/);
    expect(ran.code).toBe(0);
    const start = stack.emulator
      .requests()
      .find((r) => r.method === 'POST' && r.path.endsWith('/jobs/job-from-batch'));
    expect(start?.body).toEqual({
      type: 'simple-image-processing-v1',
      jobInput: { type: 'staging-batch-input-v1', batchId: 'staged-one' },
      computeConfiguration: { type: 'compute-configuration-v2', machineType: 'cpu', workersPerMachine: 2 },
      processingSpecification: {
        type: 'workflows-processing-specification-v1',
        workspace: 'local',
        workflowId: 'wf-x',
        workflowParameters: { threshold: 0.4, classes: ['a'] },
        persistImagesOutputs: true,
        imagesOutputsToBePersisted: ['vis'],
        aggregationFormat: 'jsonl',
      },
      inferenceBackend: 'inference-models',
    });
    // No upload at all: the batch was staged by `rfbatch stage`.
    expect(stack.emulator.requests().filter((r) => /upload/.test(r.path))).toEqual([]);
    const summary = JSON.parse(ran.stdout) as { counts: Record<string, number> };
    expect(summary.counts.results).toBe(IMAGES);
    const got = await lines(join(out, 'results.jsonl'));
    expect(got).toHaveLength(IMAGES);
    expect(got.every((l) => l.status === 'ok' && l.source === l.remoteName)).toBe(true);
  });

  it('run --job adopts a job started outside any run and writes its results', async () => {
    const staged = await cli(['stage', source, '--batch-id', 'staged-two', '--json'], env, {
      cwd: stack.workDir,
    });
    expect(staged.code).toBe(0);
    const client = createRoboflowClient({ apiUrl: stack.emulator.url, apiKey: 'k', workspace: 'local' });
    await client.startJob('job-elsewhere', imageJobBody('staged-two') as never, {
      name: 'started elsewhere',
    });
    await client.close();
    const out = join(stack.outputDir, 'adopted');
    const res = await cli(['run', '--job', 'job-elsewhere', '--out', out, '--json'], env);
    expect(res.stderr).not.toMatch(/^rfbatch: /m);
    expect(res.code).toBe(0);
    const summary = JSON.parse(res.stdout) as { jobId: string; batchId: string; workflowId: string };
    expect(summary).toMatchObject({
      jobId: 'job-elsewhere',
      batchId: 'staged-two',
      workflowId: 'detect-things',
    });
    const got = await lines(join(out, 'results.jsonl'));
    expect(new Set(got.map((l) => l.remoteName)).size).toBe(IMAGES);
    expect(got.every((l) => l.status === 'ok')).toBe(true);
    // Adopted, not started again: one job start in all, by the typed client.
    expect(stack.emulator.state().jobs.filter((j) => j.jobId === 'job-elsewhere')).toHaveLength(1);
  });
});
