import { ErrorCode, formatDuration, RemoteJobFailedError, RfbatchError, runPaths } from '@rfbatch/shared';
import { warnIfExpiring } from '@rfbatch/run-control';
import { advance, defineProcessor } from '@rfbatch/worker-kit';
import type { JobsDeps } from './deps.js';
import { explainJobFailure } from './job-failure.js';
import { withSources } from './triage.js';
import { workMirrorOf } from '@rfbatch/object-store';
import { pollDelayMs } from './wait.js';

/**
 * await: follows the remote job on a delayed job (polling never holds a worker slot), records its
 * stage and progress in the run, and stops at a terminal state. A webhook promotes this job so the end
 * is noticed at once, but polling alone always finishes. The wait is bounded by the job's processing
 * timeout plus a margin. Success hands the run to export; failure fails the run with the job's last
 * notification and first error log lines.
 */
export const awaitProcessor = defineProcessor(
  'jobs',
  'await',
  async ({ data, state: kept, run, spec, log, delay }, { ctx, options: opts }: JobsDeps) => {
    const { runId, attempt } = data;
    const jobId = spec.jobId;
    await ctx.store.setStatus(runId, 'processing');
    await ctx.store.stageStarted(runId, 'await');
    const now = Date.now();
    const wait = kept.wait ?? { polls: 0, firstSeenAt: now };
    const { job: meta, state } = await ctx.client.getJob(jobId);
    await ctx.store.setJob(runId, {
      state: state.state,
      stage: state.stage,
      progress: state.progress,
      checkedAt: new Date(now).toISOString(),
      ...(meta?.lastNotification != null ? { lastNotification: meta.lastNotification } : {}),
    });
    log.debug(
      { state: state.state, stage: state.stage, progress: state.progress, polls: wait.polls },
      'await poll',
    );
    await warnIfExpiring(ctx, run);

    if (state.terminal && !state.error) {
      await advance(ctx, runId, attempt, {
        from: 'await',
        to: { queue: 'export', name: 'collect' },
        status: 'exporting',
      });
      log.info({ roboflowJobId: jobId, polls: wait.polls + 1 }, 'remote job completed');
      return { state: state.state };
    }
    if (state.terminal || state.state === 'failed') {
      // One read of the job's logs gives the message and the triage: the cause, its evidence and the
      // restart overrides that should help (triage.ts), kept in the run error.
      const { message, triage: found } = await explainJobFailure(ctx.client, jobId, {
        job: meta,
        itemCount: run.counters.expected || undefined,
        media: spec.source.media,
        runId,
        maxLines: opts.failureLogLines,
      });
      const manifest = runPaths(ctx.config.workDir, runId).manifest;
      // The manifest names the failed files' sources; with a mirrored work dir it may be on another host.
      await workMirrorOf(ctx.config)
        ?.pull(manifest)
        .catch(() => false);
      const triage = await withSources(found, manifest);
      throw new RemoteJobFailedError(
        `${message}; cause: ${triage.class} (${triage.summary})`,
        triage,
        `${triage.suggestion}; read all logs with \`rfbatch jobs logs ${jobId}\` (retry overrides: --machine, --workers-per-machine, --timeout, --max-image-failure-rate)`,
      );
    }
    const budgetMs =
      (spec.processingTimeoutSeconds ?? opts.defaultProcessingTimeoutSeconds) * 1000 + opts.awaitMarginMs;
    const elapsedMs = now - wait.firstSeenAt;
    if (elapsedMs >= budgetMs) {
      const where = state.stage ? ` in stage "${state.stage}"` : '';
      const progress = state.progress !== null ? ` at ${Math.round(state.progress * 100)}%` : '';
      const said = `remote job "${jobId}" is still ${state.state}${where}${progress} after ${formatDuration(elapsedMs)}, beyond its processing timeout plus a margin (${formatDuration(budgetMs)})`;
      if (spec.keepJobOnTimeout)
        throw new RfbatchError(ErrorCode.run, `${said}; it keeps running (keepJobOnTimeout)`, {
          hint: `check it with \`rfbatch jobs show ${jobId}\`; abort it with \`rfbatch jobs abort ${jobId}\`, or \`rfbatch retry ${runId}\` to keep waiting`,
        });
      // A job nobody waits for any more still costs credits: it is aborted, and the run says so.
      const aborted = await ctx.client.abortJob(jobId).then(
        () => undefined,
        (error: unknown) => (error instanceof Error ? error.message : String(error)),
      );
      if (aborted === undefined)
        log.warn({ roboflowJobId: jobId }, 'remote job aborted: the await budget ran out');
      throw new RfbatchError(
        ErrorCode.run,
        aborted === undefined
          ? `${said}; the remote job was aborted so it stops costing credits`
          : `${said}; the remote job could not be aborted (${aborted}) and may still be running`,
        {
          hint:
            aborted === undefined
              ? `\`rfbatch retry ${runId}\` restarts it; give it more time with a larger processing timeout (--timeout), or keep a late job running with keepJobOnTimeout (--keep-job-on-timeout)`
              : `abort it with \`rfbatch jobs abort ${jobId}\`; check it with \`rfbatch jobs show ${jobId}\``,
        },
      );
    }
    const next = { polls: wait.polls + 1, firstSeenAt: wait.firstSeenAt };
    return delay(pollDelayMs(wait.polls, opts.pollMinMs, opts.pollMaxMs), { wait: next });
  },
);
