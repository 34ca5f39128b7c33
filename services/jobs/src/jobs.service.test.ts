import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stageJobId, type JobBody } from '@rfbatch/shared';
import { startJobs } from './service.js';
import type { JobsServiceOptions } from './options.js';
import { startTestbed, type Testbed } from '@rfbatch/testkit/staged-runs';
import { cancelRun, retryRun } from '@rfbatch/run-control';

const FAST: JobsServiceOptions = {
  pollMinMs: 20,
  pollMaxMs: 200,
  verifyTimeoutMs: 10_000,
  shardErrorGraceMs: 300,
  lockDurationMs: 5_000,
};

let bed: Testbed;
beforeAll(async () => {
  bed = await startTestbed();
});
afterAll(() => bed.close());
afterEach(async () => {
  for (const s of bed.services.splice(0)) await s.close();
  bed.emulator.setFaults({ slowIndexingMs: 0, shardErrorRate: 0, jobFailure: null, paymentRequired: false });
});

async function jobs(options: JobsServiceOptions = {}) {
  bed.services.push(await startJobs(bed.ctx, { ...FAST, ...options }));
}

const remote = (jobId: string) => bed.emulator.state().jobs.find((j) => j.jobId === jobId);

describe('jobs service', () => {
  it('verifies the batch, starts the job, follows it and hands the run to export', async () => {
    await jobs();
    const { spec } = await bed.stageRun(20, { mode: 'single' });
    const state = await bed.waitFor(spec.runId, ['exporting']);
    expect(state.counters.indexed).toBe(20);
    expect(state.job).toMatchObject({ state: 'completed' });
    expect(Object.keys(state.timings)).toEqual(expect.arrayContaining(['verify', 'start', 'await']));
    expect(state.batchExpiresAt).toMatch(/^\d{4}-/);
    expect(await bed.ctx.store.runForRemote('job', spec.jobId)).toBe(spec.runId);
    expect(await bed.ctx.queues.export.getJob(stageJobId('collect', spec.runId))).toBeDefined();
    expect(remote(spec.jobId)).toMatchObject({
      name: `rfbatch ${spec.runId}`,
      isTerminal: true,
      error: false,
    });
  });

  it('warns when the batch holds more items than were uploaded, and goes on', async () => {
    await jobs();
    const { spec } = await bed.stageRun(6, { mode: 'single', enqueue: false });
    await bed.ctx.store.setCounters(spec.runId, { expected: 5 });
    await bed.ctx.queues.jobs.add(
      'verify',
      { runId: spec.runId, attempt: 0 },
      { jobId: stageJobId('verify', spec.runId) },
    );
    const state = await bed.waitFor(spec.runId, ['exporting']);
    expect(state.warnings.join('\n')).toMatch(/holds 6 items, 1 more than the 5 uploaded/);
  });

  it('fails clearly when indexing is slower than the verify budget', async () => {
    bed.emulator.setFaults({ slowIndexingMs: 60_000 });
    await jobs({ verifyTimeoutMs: 400 });
    const { spec } = await bed.stageRun(40, { mode: 'shards' });
    const state = await bed.waitFor(spec.runId, ['failed']);
    expect(state.failedStage).toBe('verify');
    expect(state.error?.message).toMatch(
      new RegExp(
        `batch "${spec.batchId}" has 0 of 40 items after [\\d.]+ s \\(the verify budget is 0.4 s\\); no shard reports an error`,
      ),
    );
    expect(state.error?.hint).toMatch(/rfbatch retry/);
  });

  it('fails naming the shard that reports an error', async () => {
    bed.emulator.setFaults({ shardErrorRate: 1 });
    await jobs();
    const { spec } = await bed.stageRun(40, { mode: 'shards' });
    const state = await bed.waitFor(spec.runId, ['failed']);
    expect(state.failedStage).toBe('verify');
    expect(state.error?.message).toMatch(
      /has 0 of 40 items .*; shards \S+ \(.+\) report errors, so the missing 40 items will not arrive/,
    );
    expect(state.error?.hint).toMatch(/rfbatch batches shards/);
  });

  it('fails at once when the job id is taken by another definition (409)', async () => {
    await jobs();
    const { spec } = await bed.stageRun(3, { mode: 'single', enqueue: false });
    const other: JobBody = {
      type: 'simple-image-processing-v1',
      jobInput: { type: 'staging-batch-input-v1', batchId: spec.batchId },
      computeConfiguration: { type: 'compute-configuration-v2', machineType: 'gpu' },
      processingSpecification: {
        type: 'workflows-processing-specification-v1',
        workspace: 'local',
        workflowId: 'someone-else',
      },
    };
    await bed.ctx.client.startJob(spec.jobId, other, { name: 'theirs' });
    await bed.ctx.queues.jobs.add(
      'verify',
      { runId: spec.runId, attempt: 0 },
      { jobId: stageJobId('verify', spec.runId) },
    );
    const state = await bed.waitFor(spec.runId, ['failed']);
    expect(state.failedStage).toBe('start');
    expect(state.error?.message).toMatch(
      new RegExp(`job id "${spec.jobId}" is taken by another job with a different definition`),
    );
    expect(state.error?.hint).toMatch(/another job id/);
  });

  it('fails at once with the server message when batch processing is not enabled (402)', async () => {
    await jobs();
    const { spec } = await bed.stageRun(3, { mode: 'single', enqueue: false });
    bed.emulator.setFaults({ paymentRequired: true });
    await bed.ctx.queues.jobs.add(
      'verify',
      { runId: spec.runId, attempt: 0 },
      { jobId: stageJobId('verify', spec.runId) },
    );
    const state = await bed.waitFor(spec.runId, ['failed']);
    expect(state.failedStage).toBe('start');
    expect(state.error?.message).toMatch(/402/);
    const startJob = await bed.ctx.queues.jobs.getJob(stageJobId('start', spec.runId));
    expect(startJob?.attemptsMade).toBe(1);
  });

  it('fails the run with the job’s reason, and a retry restarts the job and finishes', async () => {
    bed.emulator.setFaults({ jobFailure: 'oom' });
    await jobs();
    const { spec } = await bed.stageRun(10, { mode: 'single' });
    const failed = await bed.waitFor(spec.runId, ['failed']);
    expect(failed.failedStage).toBe('await');
    expect(failed.error?.message).toMatch(new RegExp(`remote job "${spec.jobId}" failed`));
    expect(failed.error?.message).toMatch(/out of memory/);
    expect(failed.error?.hint).toMatch(/rfbatch retry/);

    bed.emulator.setFaults({ jobFailure: null });
    const retried = await retryRun(bed.ctx, spec.runId, {
      computeConfiguration: { type: 'compute-configuration-v2', machineType: 'gpu', workersPerMachine: 1 },
    });
    expect(retried).toEqual({ attempt: 1, resumedAt: 'await', restartedRemoteJob: true });
    const state = await bed.waitFor(spec.runId, ['exporting']);
    expect(state.attempt).toBe(1);
    expect(await bed.ctx.queues.export.getJob(stageJobId('collect', spec.runId, 1))).toBeDefined();
    const { job } = await bed.ctx.client.getJob(spec.jobId);
    expect(job?.restartParametersOverride).toEqual([
      expect.objectContaining({ computeConfiguration: expect.objectContaining({ machineType: 'gpu' }) }),
    ]);
  });

  it('retries a verify failure at verify, and refuses to retry a running run', async () => {
    bed.emulator.setFaults({ slowIndexingMs: 1_500 });
    await jobs({ verifyTimeoutMs: 200 });
    const { spec } = await bed.stageRun(40, { mode: 'shards' });
    await bed.waitFor(spec.runId, ['failed']);
    for (const s of bed.services.splice(0)) await s.close();
    await jobs();
    expect(await retryRun(bed.ctx, spec.runId)).toEqual({
      attempt: 1,
      resumedAt: 'verify',
      restartedRemoteJob: false,
    });
    await expect(retryRun(bed.ctx, spec.runId)).rejects.toThrow(
      /is (verifying|starting|processing|exporting); only a failed or cancelled run can be retried/,
    );
    const state = await bed.waitFor(spec.runId, ['exporting']);
    expect(state.counters.indexed).toBe(40);
  });

  it('cancel aborts the remote job and removes the waiting await job', async () => {
    await jobs({ pollMinMs: 60_000 });
    const { spec } = await bed.stageRun(4, { mode: 'single' });
    await bed.waitFor(spec.runId, ['processing']);
    const awaitJob = await bed.ctx.queues.jobs.getJob(stageJobId('await', spec.runId));
    expect(await awaitJob?.getState()).toBe('delayed');
    const result = await cancelRun(bed.ctx, spec.runId);
    expect(result).toMatchObject({ cancelled: true, abortedRemoteJob: true });
    expect(result.removedJobs).toBeGreaterThanOrEqual(1);
    expect(await bed.ctx.queues.jobs.getJob(stageJobId('await', spec.runId))).toBeUndefined();
    expect((await bed.ctx.store.require(spec.runId)).status).toBe('cancelled');
    expect(remote(spec.jobId)).toMatchObject({ isTerminal: true });
    expect(await cancelRun(bed.ctx, spec.runId)).toMatchObject({ cancelled: false });
  });

  it('notices completion at once when the waiting await job is promoted (the webhook path)', async () => {
    await jobs({ pollMinMs: 60_000, pollMaxMs: 60_000 });
    const { spec } = await bed.stageRun(4, { mode: 'single' });
    await bed.waitFor(spec.runId, ['processing']);
    for (let i = 0; i < 200 && !remote(spec.jobId)?.isTerminal; i++)
      await new Promise((r) => setTimeout(r, 25));
    expect(remote(spec.jobId)?.isTerminal).toBe(true);
    expect((await bed.ctx.store.require(spec.runId)).status).toBe('processing');
    await (await bed.ctx.queues.jobs.getJob(stageJobId('await', spec.runId)))?.promote();
    const state = await bed.waitFor(spec.runId, ['exporting'], 10_000);
    expect(state.job?.state).toBe('completed');
  });
});
