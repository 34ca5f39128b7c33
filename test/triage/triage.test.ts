/**
 * Failure triage and guided restart end to end, against the emulator's causal faults: a job that runs
 * out of memory, one that times out, one with too many failed images — each classified in the run
 * error with its evidence and suggested override, shown by `rfbatch status`, and finished by
 * `rfbatch retry` with overrides. Then a retry whose staged inputs expired: re-staged, not failed.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pngBytes } from '@rfbatch/testkit/images';
import { writeTree } from '@rfbatch/testkit/source-tree';
import { startStack, type Stack } from '@rfbatch/testkit/stack';
import type { RunState } from '@rfbatch/shared';
import { cli } from '../cli/cli-harness.js';

let stack: Stack;
let env: Record<string, string>;
let good: string;
let mixed: string;

/** A PNG signature and then garbage: passes the upload sniff, cannot be decoded by the job. */
const corruptPng = (i: number) =>
  Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    Buffer.from(`not-an-ihdr-chunk-${i}-`.repeat(3)),
  ]);

beforeAll(async () => {
  stack = await startStack();
  env = { ...stack.env, LOG_LEVEL: 'error' };
  good = join(stack.workDir, 'good');
  await writeTree(
    good,
    Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`g/img-${i}.png`, pngBytes(`good-${i}`)])),
  );
  mixed = join(stack.workDir, 'mixed');
  await writeTree(mixed, {
    ...Object.fromEntries(Array.from({ length: 34 }, (_, i) => [`ok-${i}.png`, pngBytes(`mixed-${i}`)])),
    ...Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`bad-${i}.png`, corruptPng(i)])),
  });
}, 60_000);
afterAll(() => stack.close());
afterEach(() => {
  stack.emulator.setFaults({ memoryLimitWorkers: null, machineSecondsPerItem: null, jobFailure: null });
});

async function results(runId: string): Promise<{ status: string; source: string; reason?: string }[]> {
  const text = await readFile(join(stack.outputDir, runId, 'results.jsonl'), 'utf8');
  return text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { status: string; source: string; reason?: string });
}

async function failedRun(spec: Record<string, unknown>): Promise<{ runId: string; state: RunState }> {
  // One shard, so the job has one chunk (the evidence and the budget split below count on it).
  const runId = await stack.submit({ upload: { shardMaxImages: 64 }, ...spec });
  const state = await stack.waitForRun(runId);
  expect(state.status, JSON.stringify(state.error)).toBe('failed');
  expect(state.failedStage).toBe('await');
  return { runId, state };
}

const overridesOf = async (jobId: string) =>
  (await stack.ctx.client.getJob(jobId)).job?.restartParametersOverride;

describe('triage of a failed job, then a guided restart', () => {
  it('out of memory: classified with the OOM evidence, shown by status; retry --suggested (1 worker) finishes', async () => {
    stack.emulator.setFaults({ memoryLimitWorkers: 1 });
    const { runId, state } = await failedRun({
      source: { kind: 'directory', path: good },
      compute: { workersPerMachine: 4 },
    });
    const triage = state.error?.triage;
    expect(triage).toMatchObject({
      class: 'out-of-memory',
      suggestedOverrides: { workersPerMachine: 1 },
      suggestion: `rfbatch retry ${runId} --workers-per-machine 1`,
    });
    expect(triage?.evidence[0]).toMatch(
      /\[error\] worker-oom processing-00001: .*out of memory \(OOMKilled, exit code 137\) — 4 workers per machine on a cpu machine/,
    );
    expect(state.error?.message).toMatch(
      /^remote job "rfb-[0-9a-f]{16}" failed in stage "processing"; .*; cause: out-of-memory \(the job ran out of memory with 4 workers per cpu machine/,
    );
    expect(state.error?.hint).toMatch(
      new RegExp(`^rfbatch retry ${runId} --workers-per-machine 1; read all logs with`),
    );

    const status = await cli(['status', runId], env);
    expect(status.stdout).toMatch(
      /^ {2}cause {5}out-of-memory: the job ran out of memory with 4 workers per cpu machine/m,
    );
    expect(status.stdout).toMatch(/^ {2}evidence {2}.*worker-oom .*OOMKilled/m);
    expect(status.stdout).toMatch(
      new RegExp(`^ {2}suggest {3}rfbatch retry ${runId} --workers-per-machine 1$`, 'm'),
    );
    // The same triage is in the JSON view (what GET /runs/:id serves).
    const view = JSON.parse((await cli(['status', runId, '--json'], env)).stdout) as {
      error: { triage: { class: string } };
    };
    expect(view.error.triage.class).toBe('out-of-memory');

    // The memory limit stays: only the override makes the restart succeed.
    const retried = await cli(['retry', runId, '--suggested'], env);
    expect(retried.stderr).toBe('');
    expect(retried.stdout).toContain('the remote job was restarted with {"workersPerMachine":1}');
    const done = await stack.waitForRun(runId);
    expect(done.status).toBe('completed');
    expect(done.error).toBeUndefined();
    const spec = await stack.ctx.store.spec(runId);
    expect(await overridesOf(spec.jobId)).toEqual([
      {
        type: 'parameters-override-v1',
        computeConfiguration: { type: 'compute-configuration-v2', workersPerMachine: 1 },
      },
    ]);
    expect((await results(runId)).filter((r) => r.status === 'ok')).toHaveLength(40);
  });

  it('timeout: the split budget explained and a larger one suggested; retry with the documented overrides finishes', async () => {
    // 2 s of machine time per image: 40 images need 80 s, the run allows 60.
    stack.emulator.setFaults({ machineSecondsPerItem: 2 });
    const { runId, state } = await failedRun({
      source: { kind: 'directory', path: good },
      processingTimeoutSeconds: 60,
    });
    const triage = state.error?.triage;
    expect(triage?.class).toBe('timeout');
    expect(triage?.summary).toMatch(
      /^the job timed out: processingTimeoutSeconds \(60 s\) is the whole job's machine time, split evenly across its 1 chunk \(about 60 s each\)/,
    );
    expect(triage?.evidence[0]).toMatch(
      /processing-timeout .*exceeded the job's processingTimeoutSeconds of 60 s/,
    );
    const suggested = triage?.suggestedOverrides?.processingTimeoutSeconds ?? 0;
    expect(suggested).toBeGreaterThanOrEqual(120);
    expect(suggested % 300).toBe(0);

    const retried = await cli(
      [
        'retry',
        runId,
        '--machine',
        'gpu',
        '--workers-per-machine',
        '1',
        '--timeout',
        '7200',
        '--max-image-failure-rate',
        '0.05',
        '--json',
      ],
      env,
    );
    expect(JSON.parse(retried.stdout)).toMatchObject({ runId, resumedAt: 'await', restartedRemoteJob: true });
    expect((await stack.waitForRun(runId)).status).toBe('completed');
    const spec = await stack.ctx.store.spec(runId);
    expect(await overridesOf(spec.jobId)).toEqual([
      {
        type: 'parameters-override-v1',
        computeConfiguration: { type: 'compute-configuration-v2', machineType: 'gpu', workersPerMachine: 1 },
        processingTimeoutSeconds: 7200,
        maxImageFailureRate: 0.05,
      },
    ]);
  });

  it('image failures: the failed images listed and a rate suggested; after the retry results.jsonl says which failed', async () => {
    const { runId, state } = await failedRun({
      source: { kind: 'directory', path: mixed },
      maxImageFailureRate: 0.05,
    });
    const triage = state.error?.triage;
    expect(triage).toMatchObject({
      class: 'image-failures',
      suggestedOverrides: { maxImageFailureRate: 0.2 },
    });
    expect(triage?.summary).toMatch(
      /^6 of 40 images failed in a chunk \(rate 0\.150\), above maxImageFailureRate 0\.05/,
    );
    // Named in the batch (`bad-3-9.png`) and joined back to the source file through the manifest.
    expect(triage?.failedImages?.map((f) => f.source).sort()).toEqual(
      Array.from({ length: 6 }, (_, i) => `bad-${i}.png`),
    );
    expect(triage?.failedImages?.every((f) => /^bad-\d-[0-9a-z]+\.png$/.test(f.name))).toBe(true);
    const status = await cli(['status', runId], env);
    expect(status.stdout).toMatch(/^ {2}failed {4}bad-\d\.png, bad-\d\.png, /m);

    expect((await cli(['retry', runId, '--suggested'], env)).code).toBe(0);
    expect((await stack.waitForRun(runId)).status).toBe('completed');
    const rows = await results(runId);
    expect(rows.filter((r) => r.status === 'ok')).toHaveLength(34);
    const failed = rows.filter((r) => r.status === 'failed');
    expect(failed.map((r) => r.source).sort()).toEqual(Array.from({ length: 6 }, (_, i) => `bad-${i}.png`));
    expect(failed.every((r) => /could not decode image/.test(r.reason ?? ''))).toBe(true);
    const summary = JSON.parse(await readFile(join(stack.outputDir, runId, 'summary.json'), 'utf8')) as {
      statusCounts: Record<string, number>;
    };
    expect(summary.statusCounts).toEqual({ ok: 34, failed: 6, 'not-processed': 0, skipped: 0 });
  });
});

describe('expiry', () => {
  it('status warns when a failed run expires within a day; a retry after the inputs expired stages them again', async () => {
    stack.emulator.setFaults({ jobFailure: 'workflow-error' });
    const { runId, state } = await failedRun({ source: { kind: 'directory', path: good } });
    expect(state.error?.triage).toMatchObject({ class: 'workflow-error' });
    expect(state.error?.triage?.suggestedOverrides).toBeUndefined();
    const spec = await stack.ctx.store.spec(runId);

    // Three hours left, results not downloaded: status (and GET /runs/:id) warn.
    await stack.ctx.store.setFields(runId, {
      batchExpiresAt: new Date(Date.now() + 3 * 3600_000).toISOString(),
    });
    const status = await cli(['status', runId], env);
    expect(status.stdout).toMatch(
      new RegExp(
        `^ {2}! expiry {2}the staged inputs of run ${runId} expire at .*, within 24 h, and its results are not downloaded yet \\(2 h 5\\d min left\\): retry it now`,
        'm',
      ),
    );
    const view = JSON.parse((await cli(['status', runId, '--json'], env)).stdout) as {
      expiry: { warning?: string };
    };
    expect(view.expiry.warning).toMatch(/within 24 h/);

    // The inputs expire; the Workflow is fixed; the retry stages them again instead of restarting a job on nothing.
    await stack.emulator.expireBatch(spec.batchId);
    stack.emulator.setFaults({ jobFailure: null });
    const retried = await cli(['retry', runId], env);
    expect(retried.code).toBe(0);
    expect(retried.stdout).toContain(`from plan; batch "${spec.batchId}" is gone`);
    expect(retried.stdout).toContain(`staged again into batch ${spec.batchId}-s1 (new job rfb-`);
    const done = await stack.waitForRun(runId);
    expect(done.status).toBe('completed');
    const after = await stack.ctx.store.spec(runId);
    expect(after.batchId).toBe(`${spec.batchId}-s1`);
    expect(after.jobId).not.toBe(spec.jobId);
    expect(stack.emulator.state().batches.find((b) => b.batchId === after.batchId)?.count).toBe(40);
    expect(done.counters.filesUploaded).toBe(40);
    expect(
      done.warnings.some((w) =>
        w.includes(`the retry stages the inputs again into batch "${after.batchId}"`),
      ),
    ).toBe(true);
    expect((await results(runId)).filter((r) => r.status === 'ok')).toHaveLength(40);
  });
});
