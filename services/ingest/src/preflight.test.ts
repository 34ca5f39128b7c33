/** Preflight against the emulator: the report, each problem with its fix, and nothing uploaded or created. */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '@rfbatch/emulator';
import { imageJobBody } from '@rfbatch/testkit/emulator';
import { pngBytes } from '@rfbatch/testkit/images';
import { writeTree } from '@rfbatch/testkit/source-tree';
import {
  createRoboflowClient,
  loadConfig,
  resolveRunSpec,
  RfbatchError,
  RunSpecSchema,
  type ClosableRoboflowClient,
  type Config,
  type JobBody,
  type ResolvedRunSpec,
  type RunSpecInput,
} from '@rfbatch/shared';
import { assertRemotePreflight, preflight, PreflightReport } from '@rfbatch/preflight';
import { planRun } from './planner.js';

let em: Emulator;
let client: ClosableRoboflowClient;
let dir: string;
let config: Config;
let images40: string;
let n = 0;

beforeAll(async () => {
  em = await startEmulator({
    indexingDelayMs: 0,
    processingMsPerItem: 0,
    jobStartDelayMs: 5,
    apiKeys: ['good-key'],
  });
  client = createRoboflowClient({ apiUrl: em.url, apiKey: 'good-key', retry: { maxAttempts: 1 } });
  dir = await mkdtemp(join(tmpdir(), 'rfb-preflight-'));
  config = loadConfig({ ROBOFLOW_API_URL: em.url, ROBOFLOW_API_KEY: 'good-key' });
  images40 = join(dir, 'forty');
  await writeTree(images40, {
    ...Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`d${i % 3}/p-${i}.png`, pngBytes(i)])),
    'notes.txt': 'hello',
    'empty.png': Buffer.alloc(0),
  });
});
afterAll(async () => {
  await client.close();
  await em.close();
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  em.setFaults({ paymentRequired: false, serverErrorRate: 0, firstN: null });
});

function specOf(source: RunSpecInput['source'], extra: Partial<RunSpecInput> = {}): ResolvedRunSpec {
  return resolveRunSpec(
    RunSpecSchema.parse({
      runId: `pf-${n++}`,
      source,
      workflow: { workflowId: 'wf' },
      output: { dir: join(dir, 'out') },
      ...extra,
    }),
  );
}
const check = (report: PreflightReport, name: string) => report.checks.find((c) => c.name === name);

describe('preflight report', () => {
  it('a good run: ok, the plan (files, skipped with reasons, shards, bytes, mode), and nothing uploaded', async () => {
    const spec = specOf({ kind: 'directory', path: images40 });
    const report = await preflight(spec, { client, config, planRun });
    expect(PreflightReport.parse(report)).toEqual(report);
    expect(report.ok).toBe(true);
    expect(report.problems).toEqual([]);
    expect(report.workspace).toBe('local');
    expect(report.plan).toMatchObject({
      files: 40,
      seen: 42,
      skipped: 2,
      skippedByReason: { empty: 1, 'not-media': 1 },
      uploadMode: 'shards',
      batchType: 'sharded-batch',
      // 40 images: shards of 16 (the fewest a run is cut to for parallelism).
      shards: 3,
      largestUnitItems: 16,
      webhooks: { configured: false, ingest: false, job: false },
      timeoutBudget: { estimatedSeconds: 600, configuredSeconds: null },
    });
    expect(report.plan?.bytes).toBeGreaterThan(40 * 100);
    expect(report.plan?.skippedExamples.map((s) => [s.source, s.reason]).sort()).toEqual([
      ['empty.png', 'empty'],
      ['notes.txt', 'not-media'],
    ]);
    expect(report.warnings.map((w) => w.code)).toEqual(['source.skipped']);
    expect(Object.fromEntries(report.checks.map((c) => [c.name, c.status]))).toEqual({
      'api-key': 'ok',
      workspace: 'ok',
      'batch-processing': 'ok',
      credits: 'skipped',
      'job-id': 'ok',
      batch: 'ok',
      ids: 'ok',
      source: 'warning',
      webhooks: 'ok',
      timeout: 'ok',
    });
    expect(em.state().batches).toEqual([]);
    expect(em.state().jobs).toEqual([]);
  });

  it('402: batch processing not enabled for the workspace, with the fix; the job and batch checks are skipped', async () => {
    em.setFaults({ paymentRequired: true });
    const report = await preflight(specOf({ kind: 'directory', path: images40 }), {
      client,
      config,
      planRun,
    });
    expect(report.ok).toBe(false);
    expect(report.problems[0]).toEqual({
      code: 'api.payment_required',
      message: 'batch processing is not enabled for workspace "local": it needs a Growth or Enterprise plan',
      fix: 'upgrade the workspace plan, or use the API key of a workspace that has batch processing',
    });
    expect(check(report, 'job-id')?.status).toBe('skipped');
    expect(report.plan?.files).toBe(40);
    expect(em.state().batches).toEqual([]);
  });

  it('a refused key (401) and a missing key are problems that skip every remote check', async () => {
    const bad = createRoboflowClient({ apiUrl: em.url, apiKey: 'wrong-key', retry: { maxAttempts: 1 } });
    try {
      const report = await preflight(specOf({ kind: 'directory', path: images40 }), {
        client: bad,
        config,
      });
      expect(report.ok).toBe(false);
      expect(report.problems.map((p) => p.code)).toEqual(['api.unauthorized']);
      expect(report.problems[0]?.fix).toMatch(/ROBOFLOW_API_KEY/);
      expect(check(report, 'batch-processing')?.status).toBe('skipped');
    } finally {
      await bad.close();
    }
    const none = await preflight(specOf({ kind: 'directory', path: images40 }), {
      client: undefined,
      config,
    });
    expect(none.problems).toEqual([expect.objectContaining({ message: 'ROBOFLOW_API_KEY is not set' })]);
    expect(none.plan).toBeNull();
  });

  it('a missing folder, an empty folder and a missing references file are problems that say what to do', async () => {
    const missing = await preflight(specOf({ kind: 'directory', path: join(dir, 'nope') }), {
      client,
      config,
      planRun,
    });
    expect(missing.ok).toBe(false);
    expect(missing.problems).toEqual([
      {
        code: 'source.invalid',
        message: `folder "${join(dir, 'nope')}" does not exist`,
        fix: expect.stringMatching(/give a folder/),
      },
    ]);
    const empty = join(dir, 'empty');
    await mkdir(empty, { recursive: true });
    const report = await preflight(specOf({ kind: 'directory', path: empty }), { client, config, planRun });
    expect(report.problems[0]?.message).toBe(`folder "${empty}" has no images to upload (it is empty)`);
    expect(check(report, 'source')?.status).toBe('problem');
    const refs = await preflight(specOf({ kind: 'references', path: join(dir, 'refs.jsonl') }), {
      client,
      config,
      planRun,
    });
    expect(refs.problems[0]?.message).toMatch(/references file ".*refs\.jsonl" does not exist/);
  });

  it('a job id taken by another definition is a problem; the same definition is a warning', async () => {
    await client.uploadImage('other-batch', 'x.png', {
      stream: () => Readable.from([pngBytes(1)]),
      size: pngBytes(1).length,
    });
    await client.startJob('taken-id', imageJobBody('other-batch') as JobBody);
    const spec = specOf({ kind: 'directory', path: images40 }, { jobId: 'taken-id' });
    const report = await preflight(spec, { client, config });
    expect(report.problems).toEqual([
      expect.objectContaining({
        code: 'api.conflict',
        message: expect.stringMatching(
          /^job id "taken-id" is taken by a job with a different definition \(batch "other-batch", Workflow "detect-things"\)/,
        ),
      }),
    ]);
    // With the body the run would send, an identical definition means "follow the existing job".
    const same = await preflight(spec, {
      client,
      config,
      jobBody: () => imageJobBody('other-batch') as JobBody,
    });
    expect(same.ok).toBe(true);
    expect(same.warnings.map((w) => w.code)).toEqual(['job.exists']);
  });

  it('an existing batch: a kind that cannot take the uploads is a problem; one expiring within a day is a warning', async () => {
    const small = join(dir, 'small');
    await writeTree(small, { 'a.png': pngBytes(1), 'b.png': pngBytes(2) });
    // other-batch is a simple batch (single uploads); 40 images go as tar shards.
    const mismatch = await preflight(
      specOf({ kind: 'directory', path: images40 }, { batchId: 'other-batch' }),
      { client, config, planRun },
    );
    expect(mismatch.problems.map((p) => p.code)).toEqual(['batch.kind_mismatch']);
    await em.setBatchExpiry('other-batch', new Date(Date.now() + 3 * 3600_000));
    const fits = await preflight(specOf({ kind: 'directory', path: small }, { batchId: 'other-batch' }), {
      client,
      config,
      planRun,
    });
    expect(fits.ok).toBe(true);
    expect(fits.warnings.map((w) => w.code)).toEqual(['batch.exists', 'batch.expiring']);
    expect(fits.warnings[1]?.message).toMatch(/^batch "other-batch" expires in 1[78]\d min/);
  });

  it('webhooks: a warning when the API will drop ingest notifications (simple batch); none for tar shards', async () => {
    const hooked = loadConfig({
      ROBOFLOW_API_URL: em.url,
      ROBOFLOW_API_KEY: 'good-key',
      RFBATCH_PUBLIC_URL: 'https://hooks.example',
      RFBATCH_WEBHOOK_SECRET: 'a-webhook-secret-of-16+',
    });
    const small = join(dir, 'small');
    const simple = await preflight(specOf({ kind: 'directory', path: small }), {
      client,
      config: hooked,
      planRun,
    });
    expect(simple.plan).toMatchObject({
      uploadMode: 'single',
      batchType: 'simple-batch',
      webhooks: { configured: true, ingest: false, job: true },
    });
    expect(simple.warnings.find((w) => w.code === 'webhooks.dropped')?.message).toMatch(
      /no ingest notifications for a simple batch \(2 images by single upload\)/,
    );
    const sharded = await preflight(specOf({ kind: 'directory', path: images40 }), {
      client,
      config: hooked,
      planRun,
    });
    expect(sharded.plan?.webhooks).toEqual({ configured: true, ingest: true, job: true });
    expect(sharded.warnings.map((w) => w.code)).not.toContain('webhooks.dropped');
  });

  it('a processing timeout below the estimated need is a warning with the budget to use; one above it is not', async () => {
    const report = await preflight(
      // One shard of 40 (a fixed size), so the estimate counts exactly the 40 images.
      specOf(
        { kind: 'directory', path: images40 },
        { processingTimeoutSeconds: 60, upload: { shardMaxImages: 64 } },
      ),
      { client, config, planRun },
    );
    expect(report.ok).toBe(true);
    // 40 images × an assumed 1 s on cpu × 2 = 80 s needed; 600 s suggested (rounded, at least 10 min).
    expect(report.plan?.timeoutBudget).toMatchObject({
      neededSeconds: 80,
      estimatedSeconds: 600,
      configuredSeconds: 60,
    });
    const w = report.warnings.find((x) => x.code === 'timeout.short');
    expect(w?.message).toMatch(/processingTimeoutSeconds of 60 s is below the estimated 80 s/);
    expect(w?.fix).toMatch(/--timeout 600/);
    expect(check(report, 'timeout')?.status).toBe('warning');
    const enough = await preflight(
      specOf(
        { kind: 'directory', path: images40 },
        { processingTimeoutSeconds: 120, upload: { shardMaxImages: 64 } },
      ),
      { client, config, planRun },
    );
    expect(enough.warnings.map((x) => x.code)).not.toContain('timeout.short');
  });
});

describe('assertRemotePreflight (the plan step of a real run)', () => {
  it('fails at once (not retryable) on 402, naming the plan; passes a good workspace', async () => {
    const spec = specOf({ kind: 'directory', path: images40 });
    await expect(assertRemotePreflight(client, spec)).resolves.toMatchObject({
      workspace: 'local',
      problems: [],
    });
    em.setFaults({ paymentRequired: true });
    const error = await assertRemotePreflight(client, spec).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RfbatchError);
    expect(error).toMatchObject({ code: 'api.payment_required', retryable: false });
    expect((error as Error).message).toBe(
      'preflight failed before any upload: batch processing is not enabled for workspace "local": it needs a Growth or Enterprise plan',
    );
  });

  it('rethrows a transient API error as it is, so the step is retried', async () => {
    em.setFaults({ serverErrorRate: 1, serverErrorStatuses: [503], pathPrefix: '/batch-processing/' });
    const error = await assertRemotePreflight(client, specOf({ kind: 'directory', path: images40 })).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ status: 503, retryable: true });
    em.setFaults({ pathPrefix: '' });
  });
});
