/**
 * Issue 14, points 1 and 11, through the real jobs and export services, the emulator and Redis:
 * - a run that reuses a batch already holding another run's items starts its job only once its own
 *   shards are indexed (before, `count >= expected` started it at once: 100 of 100 `not-processed`);
 * - a completed run whose files were not all processed does not exit 0 (exit code 5);
 * - a remote job that outlives the await budget is aborted (and the run says so), unless the RunSpec
 *   keeps it running.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode, reportOutcome, type CliIO } from '@rfbatch/cli';
import { startExport } from '@rfbatch/export';
import { startJobs } from '@rfbatch/jobs';
import { startTestbed, type Testbed } from '@rfbatch/testkit/staged-runs';

const FAST = {
  pollMinMs: 20,
  pollMaxMs: 200,
  verifyTimeoutMs: 30_000,
  shardErrorGraceMs: 300,
  lockDurationMs: 5_000,
};

describe('verify on a reused batch', () => {
  let bed: Testbed;
  beforeAll(async () => {
    bed = await startTestbed();
    bed.services.push(await startJobs(bed.ctx, FAST), await startExport(bed.ctx, {}));
  });
  afterAll(async () => {
    for (const s of bed.services.splice(0)) await s.close();
    await bed.close();
  });

  it("waits for the run's own shards before starting the job, so its own items are processed", async () => {
    const batchId = `shared-${Date.now().toString(36)}`;
    const a = await bed.stageRun(600, { mode: 'shards', spec: { batchId }, namePrefix: 'a-' });
    await bed.waitFor(a.spec.runId, ['completed'], 60_000);
    // Run B's shard is indexed slowly: the batch already holds 600 items, more than B's 100.
    bed.emulator.setFaults({ slowIndexingMs: 2_000 });
    try {
      const b = await bed.stageRun(100, { mode: 'shards', spec: { batchId }, namePrefix: 'b-' });
      const state = await bed.waitFor(b.spec.runId, ['completed', 'failed'], 60_000);
      expect(state.status).toBe('completed');
      expect(state.counters.indexed).toBe(700);
      expect(state.counters.results).toBe(100);
      expect(state.counters.missing).toBe(0);
      expect(state.warnings.join('\n')).toMatch(/given in the RunSpec and holds other items too/);
      expect(state.warnings.join('\n')).not.toMatch(/sent twice/);
    } finally {
      bed.emulator.setFaults({ slowIndexingMs: 0 });
    }
  });

  it('a completed run whose files have no result ends with exit code 5, after printing its summary', async () => {
    const { spec } = await bed.stageRun(3, { mode: 'single', enqueue: false });
    await mkdir(spec.output.dir, { recursive: true });
    const summary = {
      runId: spec.runId,
      counts: {
        sourceFiles: 3,
        results: 1,
        missing: 2,
        skipped: 0,
        byStatus: { ok: 1, failed: 0, 'not-processed': 2, skipped: 0 },
      },
    };
    await writeFile(join(spec.output.dir, 'summary.json'), JSON.stringify(summary));
    await bed.ctx.store.setStatus(spec.runId, 'completed');
    const out: string[] = [];
    const io: CliIO = {
      stdout: { write: (t: string) => out.push(t) },
      stderr: { write: () => true },
      env: {},
      cwd: '/',
      signal: new AbortController().signal,
    };
    for (const json of [false, true]) {
      out.length = 0;
      const state = await bed.ctx.store.require(spec.runId);
      const error = await reportOutcome(io, bed.ctx.store, state, { json }).then(
        () => undefined,
        (e: unknown) => e as { exitCode?: number; message: string },
      );
      expect(error?.exitCode).toBe(ExitCode.partial);
      expect(error?.message).toMatch(
        /completed with failures: 2 of 3 uploaded files have no result \(2 not processed\)/,
      );
      // The summary is still printed (JSON: exactly summary.json on stdout).
      expect(out.join('')).toContain(json ? '"missing":2' : 'completed');
    }
  });
});

describe('await budget', () => {
  let bed: Testbed;
  beforeAll(async () => {
    // Each item takes 20 s: the job outlives a 1 s budget by far.
    bed = await startTestbed({ emulator: { processingMsPerItem: 20_000 } });
    bed.services.push(
      await startJobs(bed.ctx, { ...FAST, defaultProcessingTimeoutSeconds: 1, awaitMarginMs: 0 }),
    );
  });
  afterAll(async () => {
    for (const s of bed.services.splice(0)) await s.close();
    await bed.close();
  });

  const remote = (jobId: string) => bed.emulator.state().jobs.find((j) => j.jobId === jobId);

  it('aborts the remote job when the budget runs out, and says so', async () => {
    const { spec } = await bed.stageRun(2, { mode: 'single' });
    const state = await bed.waitFor(spec.runId, ['failed'], 30_000);
    expect(state.failedStage).toBe('await');
    expect(state.error?.message).toMatch(
      /beyond its processing timeout.*the remote job was aborted so it stops costing credits/,
    );
    expect(remote(spec.jobId)).toMatchObject({ isTerminal: true, error: true, phase: 'aborted' });
  });

  it('keeps it running when the RunSpec opts out (keepJobOnTimeout)', async () => {
    const { spec } = await bed.stageRun(2, { mode: 'single', spec: { keepJobOnTimeout: true } });
    const state = await bed.waitFor(spec.runId, ['failed'], 30_000);
    expect(state.error?.message).toMatch(/it keeps running \(keepJobOnTimeout\)/);
    expect(remote(spec.jobId)).toMatchObject({ isTerminal: false });
    await bed.ctx.client.abortJob(spec.jobId);
  });
});
