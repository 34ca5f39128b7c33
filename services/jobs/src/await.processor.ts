import type { Job } from 'bullmq';
import {
  enqueue,
  ErrorCode,
  formatDuration,
  RfbatchError,
  runPaths,
  stageJobId,
  type ServiceContext,
} from '@rfbatch/shared';
import { explainJobFailure } from './job-failure.js';
import { withSources } from './triage.js';
import type { ResolvedJobsOptions } from './options.js';
import { pollAgain, pollDelayMs, readWaitState } from './wait.js';
import { RemoteJobFailedError } from '@rfbatch/shared';
import { warnIfExpiring } from '@rfbatch/run-control';
import { runStageJob } from '@rfbatch/worker-kit';

/**
 * await: follows the remote job on a delayed job (polling never holds a worker slot), records its
 * stage and progress in the run, and stops at a terminal state. A webhook promotes this job so the end
 * is noticed at once, but polling alone always finishes. The wait is bounded by the job's processing
 * timeout plus a margin. Success hands the run to export; failure fails the run with the job's last
 * notification and first error log lines.
 */
export async function awaitProcessor(
  ctx: ServiceContext,
  opts: ResolvedJobsOptions,
  job: Job,
  token?: string,
): Promise<unknown> {
  return runStageJob(ctx, job, 'jobs', 'await', 'await', async ({ data, run, spec, log }) => {
    const { runId, attempt } = data;
    const jobId = spec.jobId;
    await ctx.store.setStatus(runId, 'processing');
    await ctx.store.stageStarted(runId, 'await');
    const now = Date.now();
    const wait = readWaitState(job, now);
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
      await ctx.store.stageEnded(runId, 'await');
      await enqueue(
        ctx.queues,
        'export',
        'collect',
        { runId, attempt },
        { jobId: stageJobId('collect', runId, attempt) },
      );
      await ctx.store.setStatus(runId, 'exporting');
      log.info({ jobId, polls: wait.polls + 1 }, 'remote job completed');
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
      const triage = await withSources(found, runPaths(ctx.config.workDir, runId).manifest);
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
      throw new RfbatchError(
        ErrorCode.run,
        `remote job "${jobId}" is still ${state.state}${where}${progress} after ${formatDuration(elapsedMs)}, beyond its processing timeout plus a margin (${formatDuration(budgetMs)})`,
        {
          hint: `check it with \`rfbatch jobs show ${jobId}\`; abort it with \`rfbatch jobs abort ${jobId}\`, or \`rfbatch retry ${runId}\` to keep waiting`,
        },
      );
    }
    const next = { polls: wait.polls + 1, firstSeenAt: wait.firstSeenAt };
    return pollAgain(job, token, next, pollDelayMs(wait.polls, opts.pollMinMs, opts.pollMaxMs));
  });
}
