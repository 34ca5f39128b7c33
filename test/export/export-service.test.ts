import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  downloadToFile,
  ErrorCode,
  RfbatchError,
  stageJobId,
  streamDownload,
  type DownloadToFile,
  type StreamDownload,
} from '@rfbatch/shared';
import { startJobs } from '@rfbatch/jobs';
import { startTestbed, type Testbed } from '@rfbatch/testkit/staged-runs';
import { exportPaths, startExport, type ExportServiceOptions } from '@rfbatch/export';
import { retryRun } from '@rfbatch/run-control';

let bed: Testbed;
beforeAll(async () => {
  bed = await startTestbed();
});
afterAll(() => bed.close());
afterEach(async () => {
  for (const s of bed.services.splice(0)) await s.close();
  bed.emulator.setFaults({
    maliciousExport: null,
    resetRate: 0,
    latencyMs: 0,
    firstN: null,
    pathPrefix: '',
    signedUrlTtlS: null,
  });
});

async function services(options: ExportServiceOptions = {}) {
  bed.services.push(await startJobs(bed.ctx, { pollMinMs: 20, pollMaxMs: 200, lockDurationMs: 5_000 }));
  bed.services.push(await startExport(bed.ctx, { retryDelayMs: 20, lockDurationMs: 5_000, ...options }));
}

interface Line {
  source: string;
  remoteName?: string;
  status: string;
  result?: Record<string, unknown>;
}
async function results(
  runId: string,
): Promise<{ lines: Line[]; summary: Record<string, unknown> & { counts: Record<string, number> } }> {
  const out = join(bed.outDir, runId);
  const lines = (await readFile(join(out, 'results.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Line);
  const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8')) as Record<string, unknown> & {
    counts: Record<string, number>;
  };
  return { lines, summary };
}

const sha = async (file: string) =>
  createHash('sha256')
    .update(await readFile(file))
    .digest('hex');

describe('export service', () => {
  it('downloads, extracts and joins the outputs to the sources, then completes the run', async () => {
    await services({ filesPerJob: 1 });
    const { spec, names } = await bed.stageRun(30, { mode: 'shards', shardSize: 10 });
    const state = await bed.waitFor(spec.runId, ['completed']);
    const { lines, summary } = await results(spec.runId);
    expect(lines).toHaveLength(30);
    expect(lines.map((l) => l.source)).toEqual(names.map((n) => `photos/${n}`));
    for (const line of lines) {
      expect(line.status).toBe('ok');
      expect(line.result?.file_name).toBe(line.remoteName);
      expect(line.result).toMatchObject({ format: 'png', width: 4, height: 4 });
    }
    expect(summary).toMatchObject({
      runId: spec.runId,
      state: 'completed',
      batchId: spec.batchId,
      jobId: spec.jobId,
      counts: { sourceFiles: 30, skipped: 0, uploaded: 30, indexed: 30, results: 30, missing: 0 },
      statusCounts: { ok: 30, failed: 0, 'not-processed': 0, skipped: 0 },
    });
    expect(Object.keys(summary.timings as object)).toEqual([
      'verify',
      'start',
      'await',
      'collect',
      'download',
      'finalize',
    ]);
    expect(state.counters).toMatchObject({ downloadsTotal: 3, downloadsDone: 3, results: 30, missing: 0 });
    expect(state.outputExpiresAt).toMatch(/^\d{4}-/);
    // Three archives, each extracted into its own folder; the packed copies are gone from the work dir.
    const extracted = await readdir(join(bed.outDir, spec.runId, 'outputs', 'results'));
    expect(extracted.sort()).toEqual(['export-00001', 'export-00002', 'export-00003']);
    const paths = exportPaths(bed.workDir, spec.runId, spec.output.dir, true);
    expect(existsSync(paths.raw) ? await readdir(paths.raw, { recursive: true }) : []).not.toContainEqual(
      expect.stringMatching(/\.tar\.gz$/),
    );
    // The downloads file holds names, never a signed URL.
    const downloads = await readFile(paths.downloads, 'utf8');
    expect(downloads).not.toMatch(/http|sig=|signature|expires/i);
    expect(downloads.trim().split('\n')).toHaveLength(3);
  });

  it('joins CSV outputs, and keeps archives packed when extract is off', async () => {
    await services();
    const { spec } = await bed.stageRun(12, {
      mode: 'single',
      spec: {
        workflow: { workflowId: 'wf-csv', aggregationFormat: 'csv' },
        output: { dir: join(bed.outDir, 'csv-run'), extract: false },
      },
    });
    await bed.waitFor(spec.runId, ['completed']);
    const lines = (await readFile(join(bed.outDir, 'csv-run', 'results.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Line);
    expect(lines).toHaveLength(12);
    expect(
      lines.every((l) => l.status === 'ok' && l.result?.format === 'png' && l.result.width === '4'),
    ).toBe(true);
    expect(await readdir(join(bed.outDir, 'csv-run', 'outputs', 'results'))).toEqual(['export-00001.tar.gz']);
  });

  it.each(['traversal', 'absolute', 'symlink', 'bomb'] as const)(
    'refuses a malicious export archive (%s) and writes nothing outside',
    async (kind) => {
      bed.emulator.setFaults({ maliciousExport: kind });
      await services({ extractLimits: { ratioFloorBytes: 1024 * 1024 } });
      const { spec } = await bed.stageRun(3, { mode: 'single', runId: `r-evil-${kind}` });
      const state = await bed.waitFor(spec.runId, ['failed']);
      expect(state.failedStage).toBe('download');
      expect(state.error?.code).toBe(ErrorCode.unsafeArchive);
      const entry = {
        traversal: '../../rfbatch-escape.txt',
        absolute: '/tmp/rfbatch-absolute.txt',
        symlink: 'results-link',
        bomb: 'bomb.bin',
      }[kind];
      expect(state.error?.message).toContain(
        `export archive "results/export-00001.tar.gz" was refused at entry "${entry}"`,
      );
      expect(existsSync('/tmp/rfbatch-absolute.txt')).toBe(false);
      const everything = [
        ...(await readdir(bed.outDir, { recursive: true })),
        ...(await readdir(bed.workDir, { recursive: true })),
      ];
      expect(
        everything.filter((p) => /rfbatch-escape|rfbatch-absolute|results-link|bomb\.bin|partial-/.test(p)),
      ).toEqual([]);
    },
  );

  it('survives connection resets mid-download', async () => {
    await services({ filesPerJob: 2 });
    const { spec } = await bed.stageRun(40, { mode: 'shards', shardSize: 5, enqueue: false });
    bed.emulator.setFaults({ pathPrefix: '/_storage/', resetRate: 0.5, seed: 7 });
    await bed.ctx.queues.jobs.add(
      'verify',
      { runId: spec.runId, attempt: 0 },
      { jobId: stageJobId('verify', spec.runId) },
    );
    await bed.waitFor(spec.runId, ['completed'], 60_000);
    const { lines } = await results(spec.runId);
    expect(lines.filter((l) => l.status === 'ok')).toHaveLength(40);
  });

  it('lists again for a fresh URL when a signed URL has expired', async () => {
    const refused: number[] = [];
    const watch = async <T>(transfer: () => Promise<T>): Promise<T> => {
      try {
        return await transfer();
      } catch (error) {
        if (error instanceof RfbatchError && error.status !== undefined) refused.push(error.status);
        throw error;
      }
    };
    const watched: DownloadToFile = (url, dest, opts) => watch(() => downloadToFile(url, dest, opts));
    const watchedStream: StreamDownload = (url, dest, opts, consume) =>
      watch(() => streamDownload(url, dest, opts, consume));
    await services({ downloadToFile: watched, streamDownload: watchedStream });
    const { spec } = await bed.stageRun(5, { mode: 'single', enqueue: false });
    // URLs listed from now on live 1 s; the first download waits 1.5 s before it is served.
    bed.emulator.setFaults({ signedUrlTtlS: 1, pathPrefix: '/_storage/', latencyMs: 1_500, firstN: 1 });
    await bed.ctx.queues.jobs.add(
      'verify',
      { runId: spec.runId, attempt: 0 },
      { jobId: stageJobId('verify', spec.runId) },
    );
    await bed.waitFor(spec.runId, ['completed'], 30_000);
    expect(refused).toContain(403);
    expect((await results(spec.runId)).lines.every((l) => l.status === 'ok')).toBe(true);
  });

  it('a repeated finalize changes nothing', async () => {
    await services();
    const { spec } = await bed.stageRun(8, { mode: 'single' });
    const before = await bed.waitFor(spec.runId, ['completed']);
    const out = join(bed.outDir, spec.runId);
    const files = ['results.jsonl', 'summary.json'].map((f) => join(out, f));
    const hashes = await Promise.all(files.map(sha));
    const mtimes = await Promise.all(files.map(async (f) => (await stat(f)).mtimeMs));
    const again = await bed.ctx.queues.export.add(
      'finalize',
      { runId: spec.runId, attempt: 0 },
      { jobId: 'finalize-again' },
    );
    for (let i = 0; i < 200 && !(await again.isCompleted()); i++) await new Promise((r) => setTimeout(r, 25));
    expect(await again.isCompleted()).toBe(true);
    expect(await Promise.all(files.map(sha))).toEqual(hashes);
    expect(await Promise.all(files.map(async (f) => (await stat(f)).mtimeMs))).toEqual(mtimes);
    expect(await bed.ctx.store.require(spec.runId)).toEqual(before);
  });

  it('a retry after a failed download fetches only what was not finished', async () => {
    const calls = new Map<string, number>();
    let failOnce = true;
    const flaky: StreamDownload = async (url, dest, opts, consume) => {
      const name = dest.split('/').pop() as string;
      calls.set(name, (calls.get(name) ?? 0) + 1);
      if (name === 'export-00002.tar.gz' && failOnce) {
        failOnce = false;
        throw new RfbatchError(ErrorCode.download, 'injected: the disk said no', { retryable: false });
      }
      return streamDownload(url, dest, opts, consume);
    };
    await services({ streamDownload: flaky, filesPerJob: 1, concurrency: 1 });
    const { spec } = await bed.stageRun(12, { mode: 'shards', shardSize: 4 });
    const failed = await bed.waitFor(spec.runId, ['failed']);
    expect(failed.failedStage).toBe('download');
    expect(failed.error?.message).toContain('injected: the disk said no');
    const fetchedBefore = new Map(calls);
    expect(await retryRun(bed.ctx, spec.runId)).toMatchObject({
      attempt: 1,
      resumedAt: 'collect',
      restartedRemoteJob: false,
    });
    await bed.waitFor(spec.runId, ['completed']);
    for (const [name, n] of calls) {
      expect(n, name).toBe(name === 'export-00002.tar.gz' ? 2 : 1);
      if (name !== 'export-00002.tar.gz' && fetchedBefore.has(name)) expect(n).toBe(fetchedBefore.get(name));
    }
    expect(calls.size).toBe(3);
    const { lines, summary } = await results(spec.runId);
    expect(lines.filter((l) => l.status === 'ok')).toHaveLength(12);
    expect(summary.attempt).toBe(1);
  });
});
