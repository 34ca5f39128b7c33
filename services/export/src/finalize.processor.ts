import {
  claimOutputDir,
  looksLikeUrl,
  MetricName,
  Stage,
  type Config,
  type ResolvedRunSpec,
  type RunState,
  type ServiceContext,
  writeFileAtomic,
} from '@rfbatch/shared';
import { exportPaths, type ExportPaths } from './downloads.js';
import { writeResults, type JoinCounts } from './write-results.js';
import { writeReport } from '@rfbatch/report';
import { defineProcessor } from '@rfbatch/worker-kit';
import type { ExportDeps } from './deps.js';
import { publishOutput } from './publish-output.js';
import { workMirrorOf } from '@rfbatch/object-store';

/** summary.json: what the run did, built only from stored state, so a re-run writes the same bytes. */
export function buildSummary(spec: ResolvedRunSpec, state: RunState, counts: JoinCounts, finishedAt: string) {
  const timings: Record<string, { startedAt: string; endedAt?: string; durationMs?: number }> = {};
  for (const stage of Stage.options) {
    const t = state.timings[stage];
    if (!t) continue;
    const durationMs = t.endedAt ? Date.parse(t.endedAt) - Date.parse(t.startedAt) : undefined;
    timings[stage] = { ...t, ...(durationMs !== undefined ? { durationMs } : {}) };
  }
  return {
    runId: spec.runId,
    state: 'completed' as const,
    attempt: state.attempt,
    batchId: spec.batchId,
    jobId: spec.jobId,
    workflowId: spec.workflow.workflowId,
    uploadMode: state.uploadMode ?? null,
    counts: {
      sourceFiles: counts.sourceFiles,
      skipped: counts.skipped,
      uploaded: state.counters.expected || state.counters.filesUploaded || 0,
      indexed: state.counters.indexed ?? 0,
      results: counts.results,
      missing: counts.missing,
    },
    statusCounts: counts.byStatus,
    downloads: { files: state.counters.downloadsTotal ?? 0, bytes: state.counters.bytesDownloaded ?? 0 },
    timings,
    warnings: state.warnings,
    expiry: { batchExpiresAt: state.batchExpiresAt ?? null, outputExpiresAt: state.outputExpiresAt ?? null },
    createdAt: state.createdAt,
    finishedAt,
    files: { results: 'results.jsonl', outputs: 'outputs/' },
  };
}
export type RunSummary = ReturnType<typeof buildSummary>;

/** Adds a warning unless the run already has it (a re-run of finalize must not repeat warnings). */
async function warnOnce(ctx: ServiceContext, runId: string, state: RunState, message: string): Promise<void> {
  if (!state.warnings.includes(message)) await ctx.store.warn(runId, message);
}

/**
 * With a mirrored work dir, the files this host lacks: the plan's manifest and skipped list (ingest
 * hosts), refused entries, the download list and what download jobs on other hosts fetched.
 */
async function pullRunFiles(
  config: Config,
  runId: string,
  paths: ExportPaths,
  extract: boolean,
): Promise<void> {
  const mirror = workMirrorOf(config);
  if (!mirror) return;
  for (const file of [paths.manifest, paths.skipped]) await mirror.pull(file);
  await mirror.refresh(paths.downloads);
  await mirror.pullTree(paths.refused);
  await mirror.pullOutputs(runId, paths.out);
  if (!extract) await mirror.pullTree(paths.extracted);
}

/**
 * finalize: joins the result records to the source files (results.jsonl), writes summary.json, marks
 * the run completed — which appends the `completed` event to the run-store events stream, the
 * completion event other systems consume and the notifier's cue to POST the summary to the run's
 * `notify` URL (notify-watch.ts). Safe to run twice: the files come out the same, and a completed run
 * is left alone.
 */
export const finalizeProcessor = defineProcessor(
  'export',
  'finalize',
  async ({ data, spec, log }, { ctx }: ExportDeps) => {
    const { runId } = data;
    await ctx.store.stageStarted(runId, 'finalize');
    const paths = exportPaths(ctx.config.workDir, runId, spec.output.dir, spec.output.extract);
    // Again before writing (a retried or recovered run): never over a live run's results.
    await claimOutputDir(ctx.store, spec.output.dir, runId);
    await pullRunFiles(ctx.config, runId, paths, spec.output.extract);
    const counts = await writeResults(paths);
    await ctx.store.setCounters(runId, { results: counts.results, missing: counts.missing });
    let state = await ctx.store.require(runId);
    if (counts.missing > 0) {
      await warnOnce(
        ctx,
        runId,
        state,
        `${counts.missing} of ${counts.sourceFiles - counts.skipped} uploaded files have no result in the job outputs (status "not-processed" in results.jsonl)`,
      );
    }
    if (counts.unmatchedRecords > 0) {
      await warnOnce(
        ctx,
        runId,
        state,
        `${counts.unmatchedRecords} result records name no file of this run (e.g. "${counts.unmatchedExample ?? '(no name)'}"); they are not in results.jsonl`,
      );
    }
    if (counts.badLines > 0)
      await warnOnce(
        ctx,
        runId,
        state,
        `${counts.badLines} lines of the job's JSONL outputs were not JSON objects and were left out`,
      );
    // The end time is fixed the first time, so a repeated finalize writes the same summary.
    if (!state.timings.finalize?.endedAt) await ctx.store.stageEnded(runId, 'finalize');
    state = await ctx.store.require(runId);
    const finishedAt = state.timings.finalize?.endedAt ?? new Date().toISOString();
    const summary = buildSummary(spec, state, counts, finishedAt);
    await writeFileAtomic(paths.summary, `${JSON.stringify(summary, null, 2)}\n`);
    // A view of the two files above: when it cannot be written, the run still completes (a warning).
    const report = await writeReport({ outDir: paths.out, spec }).catch((error: unknown) => error as Error);
    if (report instanceof Error)
      await warnOnce(ctx, runId, state, `report.html was not written: ${report.message}`);
    else log.info({ bytes: report.bytes, sampled: report.sampled }, 'report written');
    if (looksLikeUrl(spec.output.dir)) {
      // A bucket output: everything above was assembled in the work dir; now it becomes objects.
      // Second-resolution store clocks: a margin so an object this run wrote is never taken as older.
      const since = Date.parse(state.createdAt) - 2_000;
      const published = await publishOutput(paths.out, spec.output.dir, since);
      log.info({ ...published, to: spec.output.dir }, 'output published');
    }

    const completed = await ctx.store.setStatus(runId, 'completed');
    // The run's end is counted by the store (runs_total); its stage times are counted here, once.
    if (completed) {
      for (const [stage, t] of Object.entries(summary.timings)) {
        if (t.durationMs !== undefined)
          ctx.metrics?.observe(MetricName.stageDuration, { stage }, t.durationMs / 1000);
      }
    }
    log.info({ ...summary.counts, statusCounts: summary.statusCounts }, 'run completed');

    return summary.counts;
  },
);
