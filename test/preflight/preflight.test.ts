/**
 * Preflight end to end: a workspace without batch processing (402) fails the run before any upload,
 * and `rfbatch preflight` / `rfbatch run --dry-run` print the plan and upload nothing (no Redis needed).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pngBytes } from '@rfbatch/testkit/images';
import { writeTree } from '@rfbatch/testkit/source-tree';
import { startStack, type Stack } from '@rfbatch/testkit/stack';
import { runPaths } from '@rfbatch/shared';
import { cli } from '../cli/cli-harness.js';
import { PreflightReport } from '@rfbatch/preflight';

let stack: Stack;
let source: string;
let env: Record<string, string>;

beforeAll(async () => {
  stack = await startStack();
  source = join(stack.workDir, 'src');
  await writeTree(source, {
    ...Object.fromEntries(Array.from({ length: 36 }, (_, i) => [`cats/c-${i}.png`, pngBytes(`pf-${i}`)])),
    'cats/notes.txt': 'not an image',
    'cats/broken.jpg': 'not a jpeg either',
  });
  // A Redis nobody listens on: preflight and --dry-run must not need one.
  env = { ...stack.env, REDIS_URL: 'redis://127.0.0.1:1', LOG_LEVEL: 'error' };
});
afterAll(() => stack.close());
afterEach(() => {
  stack.emulator.setFaults({ paymentRequired: false });
});

describe('402 before upload', () => {
  it('a workspace without batch processing fails the run at plan, before scanning or uploading anything', async () => {
    stack.emulator.setFaults({ paymentRequired: true });
    const runId = await stack.submit({ source: { kind: 'directory', path: source } });
    const state = await stack.waitForRun(runId);
    expect(state.status).toBe('failed');
    expect(state.failedStage).toBe('plan');
    expect(state.error).toMatchObject({
      code: 'api.payment_required',
      message:
        'preflight failed before any upload: batch processing is not enabled for workspace "local": it needs a Growth or Enterprise plan',
      hint: 'upgrade the workspace plan, or use the API key of a workspace that has batch processing',
    });
    const spec = await stack.ctx.store.spec(runId);
    expect(stack.emulator.state().batches.map((b) => b.batchId)).not.toContain(spec.batchId);
    expect(state.counters).toMatchObject({
      filesUploaded: 0,
      bytesUploaded: 0,
      shardsUploaded: 0,
      planned: 0,
    });
    expect(existsSync(runPaths(stack.workDir, runId).manifest)).toBe(false);
  });
});

describe('rfbatch preflight and run --dry-run', () => {
  it('--dry-run prints the checks and the plan, exits 0, and uploads nothing', async () => {
    const res = await cli(['run', source, '--workflow', 'wf', '--run-id', 'r-dry', '--dry-run'], env);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const out = res.stdout;
    expect(out).toMatch(/^preflight of run r-dry: OK — nothing stops this run$/m);
    expect(out).toMatch(/^ {2}✓ batch-processing +workspace "local" can run batch jobs$/m);
    expect(out).toMatch(/^ {2}files {5}36 images, .* \(38 seen, 2 skipped: 2 not-media\)$/m);
    expect(out).toMatch(/^ {2}skipped {3}cats\/broken\.jpg — not-media \(content is not JPEG data/m);
    expect(out).toMatch(
      /^ {2}upload {4}shards: 3 tar shards of up to 16 images → sharded-batch "rfb-r-dry"$/m,
    );
    expect(out).toMatch(/^ {2}webhooks {2}none \(no RFBATCH_PUBLIC_URL\): progress is polled$/m);
    expect(out).toMatch(/^ {2}timeout {3}not set; estimated budget 600 s/m);
    expect(out).toMatch(/nothing was uploaded\n$/);
    expect(stack.emulator.state().batches.map((b) => b.batchId)).not.toContain('rfb-r-dry');
    expect(stack.emulator.state().jobs).toEqual([]);
  });

  it('--json prints the report; a 402 makes it exit 1 with the problem and its fix', async () => {
    stack.emulator.setFaults({ paymentRequired: true });
    const res = await cli(
      [
        'preflight',
        source,
        '--workflow',
        'wf',
        '--run-id',
        'r-dry-402',
        '--json',
        '--machine',
        'gpu',
        '--timeout',
        '60',
      ],
      env,
    );
    expect(res.code).toBe(1);
    const report = PreflightReport.parse(JSON.parse(res.stdout));
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      {
        code: 'api.payment_required',
        message:
          'batch processing is not enabled for workspace "local": it needs a Growth or Enterprise plan',
        fix: 'upgrade the workspace plan, or use the API key of a workspace that has batch processing',
      },
    ]);
    expect(report.plan).toMatchObject({
      files: 36,
      skipped: 2,
      uploadMode: 'shards',
      timeoutBudget: { configuredSeconds: 60 },
    });
    // 36 images at an assumed 0.25 s on gpu × 2 = 18 s needed: 60 s is enough.
    expect(report.warnings.map((w) => w.code)).toEqual(['source.skipped']);
    const human = await cli(['run', source, '--workflow', 'wf', '--dry-run'], env);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/^preflight of run .*: 1 problem — the run would fail$/m);
    expect(human.stdout).toMatch(
      /^ {2}✗ batch processing is not enabled for workspace "local": it needs a Growth or Enterprise plan\n {4}fix: upgrade the workspace plan/m,
    );
    expect(stack.emulator.state().batches.map((b) => b.batchId)).not.toContain('rfb-r-dry-402');
  });

  it('a missing folder and a taken job id are problems in the report (exit 1)', async () => {
    const missing = await cli(['preflight', join(stack.workDir, 'nope'), '--workflow', 'wf', '--json'], env);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout).problems[0]).toMatchObject({
      code: 'source.invalid',
      message: expect.stringMatching(/nope" does not exist$/),
    });

    // A job of another run holds the id: the run would get 409 at start, after uploading everything.
    const other = await stack.submit({ source: { kind: 'directory', path: source }, jobId: 'shared-job-id' });
    expect((await stack.waitForRun(other)).status).toBe('completed');
    const taken = await cli(['preflight', source, '--workflow', 'wf', '--job-id', 'shared-job-id'], env);
    expect(taken.code).toBe(1);
    expect(taken.stdout).toMatch(/✗ job id "shared-job-id" is taken by a job with a different definition/);
    expect(taken.stdout).toMatch(/fix: give the run another job id/);
  });
});
