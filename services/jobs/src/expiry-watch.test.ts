/** Expiry warnings (< 24 h, results not downloaded) and re-staging decisions, on real runs in Redis. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Counter, enqueue, stageJobId, type RunState } from '@rfbatch/shared';
import { startJobs } from './service.js';
import { startTestbed, type Testbed } from '@rfbatch/testkit/staged-runs';
import {
  expiryWarning,
  warnIfExpiring,
  expiredStagedData,
  restagedBatchId,
  restagedSpec,
  restageRun,
} from '@rfbatch/run-control';

let bed: Testbed;
beforeAll(async () => {
  bed = await startTestbed();
});
afterAll(() => bed.close());
afterEach(async () => {
  for (const s of bed.services.splice(0)) await s.close();
});

const base = (over: Partial<RunState>): RunState => ({
  runId: 'r-x',
  status: 'processing',
  attempt: 0,
  createdAt: '2026-11-29T00:00:00.000Z',
  updatedAt: '2026-11-29T00:00:00.000Z',
  counters: Object.fromEntries(Counter.options.map((c) => [c, 0])) as RunState['counters'],
  timings: {},
  warnings: [],
  ...over,
});

describe('expiryWarning', () => {
  const now = new Date('2026-11-29T12:00:00.000Z');
  it('warns under 24 h while results are not downloaded, about outputs once the job has them', () => {
    expect(expiryWarning(base({ batchExpiresAt: '2026-11-30T13:00:00.000Z' }), now)).toBeUndefined();
    expect(expiryWarning(base({ batchExpiresAt: '2026-11-29T15:30:00.000Z' }), now)).toBe(
      'the staged inputs of run r-x expire at 2026-11-29T15:30:00.000Z, within 24 h, and its results are not downloaded yet (3 h 30 min left): keep the workers running: the run exports as soon as the job ends',
    );
    expect(
      expiryWarning(
        base({
          status: 'failed',
          batchExpiresAt: '2026-11-29T15:30:00.000Z',
          outputExpiresAt: '2026-11-29T12:20:00.000Z',
        }),
        now,
      ),
    ).toMatch(
      /^the job's outputs of run r-x expire at 2026-11-29T12:20:00\.000Z, .* \(20 min left\): retry it now \(`rfbatch retry r-x`\)/,
    );
    expect(
      expiryWarning(base({ status: 'failed', batchExpiresAt: '2026-11-29T11:00:00.000Z' }), now),
    ).toMatch(/they have expired; `rfbatch retry r-x` stages the inputs again$/);
    expect(
      expiryWarning(base({ status: 'completed', batchExpiresAt: '2026-11-29T12:10:00.000Z' }), now),
    ).toBeUndefined();
  });
});

describe('warnIfExpiring in a run', () => {
  it('the await stage records the warning once when the staged batch expires within a day', async () => {
    bed.services.push(await startJobs(bed.ctx, { pollMinMs: 20, pollMaxMs: 100, lockDurationMs: 5_000 }));
    const { spec } = await bed.stageRun(5, { mode: 'single', enqueue: false });
    await bed.emulator.setBatchExpiry(spec.batchId, new Date(Date.now() + 3 * 3600_000));
    await enqueue(
      bed.ctx.queues,
      'jobs',
      'verify',
      { runId: spec.runId, attempt: 0 },
      { jobId: stageJobId('verify', spec.runId) },
    );
    const state = await bed.waitFor(spec.runId, ['exporting']);
    const warnings = state.warnings.filter((w) =>
      w.startsWith(`the staged inputs of run ${spec.runId} expire at`),
    );
    expect(warnings).toHaveLength(1);
    expect(await warnIfExpiring(bed.ctx, state)).toBe(false);
  });
});

describe('re-staging decisions', () => {
  it('derives fresh ids within the API rules and folds restart overrides into the spec', async () => {
    expect(restagedBatchId('cats', 2)).toBe('cats-s2');
    expect(restagedBatchId('cats-s2', 5)).toBe('cats-s5');
    expect(restagedBatchId('x'.repeat(64), 3)).toBe(`${'x'.repeat(61)}-s3`);
    const { spec } = await bed.stageRun(1, { mode: 'single', enqueue: false });
    const next = restagedSpec(spec, 1, {
      computeConfiguration: { type: 'compute-configuration-v2', workersPerMachine: 1 },
      processingTimeoutSeconds: 7200,
    });
    expect(next).toMatchObject({
      runId: spec.runId,
      batchId: `${spec.batchId}-s1`,
      compute: { machineType: 'cpu', workersPerMachine: 1 },
      processingTimeoutSeconds: 7200,
    });
    expect(next.jobId).toMatch(/^rfb-[0-9a-f]{16}$/);
    expect(next.jobId).not.toBe(spec.jobId);
    expect(() => restagedSpec(spec, 1, { processingTimeoutSeconds: 5 })).toThrow(/processingTimeoutSeconds/);
  });

  it('finds expired inputs only where the run still needs them', async () => {
    const { spec } = await bed.stageRun(2, { mode: 'single', enqueue: false });
    const state = await bed.ctx.store.require(spec.runId);
    const uploaded = { ...state, counters: { ...state.counters, filesUploaded: 2 } };
    expect(await expiredStagedData(bed.ctx, spec, uploaded, 'await')).toBeUndefined();
    await bed.emulator.expireBatch(spec.batchId);
    expect(await expiredStagedData(bed.ctx, spec, uploaded, 'await')).toBe(`batch "${spec.batchId}" is gone`);
    expect(await expiredStagedData(bed.ctx, spec, uploaded, 'upload')).toBe(
      `batch "${spec.batchId}" is gone`,
    );
    expect(
      await expiredStagedData(
        bed.ctx,
        spec,
        { ...uploaded, counters: { ...uploaded.counters, filesUploaded: 0 } },
        'upload',
      ),
    ).toBeUndefined();
    expect(await expiredStagedData(bed.ctx, spec, uploaded, 'plan')).toBeUndefined();
    expect(await expiredStagedData(bed.ctx, spec, uploaded, 'finalize')).toBeUndefined();
    // After the job: only outputs that expired before they were downloaded count.
    expect(await expiredStagedData(bed.ctx, spec, uploaded, 'download')).toBeUndefined();
    expect(
      await expiredStagedData(
        bed.ctx,
        spec,
        { ...uploaded, outputExpiresAt: '2020-01-01T00:00:00.000Z' },
        'collect',
      ),
    ).toMatch(/outputs of job .* expired on 2020-01-01/);
  });

  it('re-stages a bucket run whose presigned references expired before the job started', async () => {
    const { spec } = await bed.stageRun(2, { mode: 'single', enqueue: false });
    const state = await bed.ctx.store.require(spec.runId);
    const sent = { ...state, counters: { ...state.counters, filesUploaded: 2 } };
    const past = { ...sent, referencesExpireAt: '2020-01-01T00:00:00.000Z' };
    const future = { ...sent, referencesExpireAt: '2999-01-01T00:00:00.000Z' };
    for (const stage of ['upload', 'verify'] as const)
      expect(await expiredStagedData(bed.ctx, spec, past, stage)).toMatch(
        /presigned URLs of the run's bucket objects expired on 2020-01-01.*before every object was indexed/,
      );
    expect(await expiredStagedData(bed.ctx, spec, future, 'verify')).toBeUndefined();
    // Once the job has started, every object was indexed: the URLs are no longer needed.
    expect(await expiredStagedData(bed.ctx, spec, past, 'await')).toBeUndefined();
    // The re-stage forgets the dead expiry: the sender keeps the earliest one it is given, so a kept
    // one would make the next attempt re-stage again.
    await bed.ctx.store.noteReferencesExpiry(spec.runId, new Date('2020-01-01T00:00:00.000Z'));
    await restageRun(bed.ctx, spec, 2, 'references expired');
    expect((await bed.ctx.store.require(spec.runId)).referencesExpireAt).toBeUndefined();
  });
});
