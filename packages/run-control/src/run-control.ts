import type { Job } from 'bullmq';
import {
  ApiError,
  enqueue,
  ErrorCode,
  QUEUE_NAMES,
  RESUME_POINT,
  RestartOverrides,
  RfbatchError,
  Stage,
  stageJobId,
  TERMINAL_STATUSES,
  type JobName,
  type QueueName,
  type RunState,
  type RunStatus,
  type ServiceContext,
} from '@rfbatch/shared';
import type { RetryOverridesForApi } from './retry-overrides.schema.js';
import { requireOrLost } from './recover.js';
import { expiredStagedData, restageRun, type RestageResult } from './restage.js';

/** Job states a cancel removes: everything not yet running. Active jobs see the cancelled run and stop. */
const PENDING_STATES = ['waiting', 'delayed', 'prioritized', 'waiting-children'] as const;
const PAGE = 1000;

/** The run a job belongs to: `data.runId`, or `data.spec.runId` for intake jobs. */
function jobRunId(job: Job): unknown {
  const data = job.data as { runId?: unknown; spec?: { runId?: unknown } } | undefined;
  return data?.runId ?? data?.spec?.runId;
}

/** Removes every pending job of `runId` from every queue. Returns how many were removed. */
export async function removeRunJobs(ctx: ServiceContext, runId: string): Promise<number> {
  let removed = 0;
  for (const name of QUEUE_NAMES) {
    const queue = ctx.queues[name];
    const mine: Job[] = [];
    for (let start = 0; ; start += PAGE) {
      const page = await queue.getJobs([...PENDING_STATES], start, start + PAGE - 1, true);
      mine.push(...page.filter((j) => j !== undefined && jobRunId(j) === runId));
      if (page.length < PAGE) break;
    }
    for (const job of mine) {
      try {
        await job.remove({ removeChildren: true });
        removed++;
      } catch {
        // Locked (running) or already gone: it will find the run cancelled and stop by itself.
      }
    }
  }
  return removed;
}

export interface CancelResult {
  /** False when the run had already ended (nothing changed). */
  cancelled: boolean;
  /** Pending jobs removed from the queues. */
  removedJobs: number;
  /** True when the remote job was asked to abort. */
  abortedRemoteJob: boolean;
}

/**
 * Cancels a run: status `cancelled` (a terminal status no late worker can undo), its waiting and
 * delayed jobs removed, and its remote job aborted when it was started. A run that has already ended
 * is left as it is.
 */
export async function cancelRun(ctx: ServiceContext, runId: string): Promise<CancelResult> {
  const before = await ctx.store.require(runId);
  if (TERMINAL_STATUSES.includes(before.status))
    return { cancelled: false, removedJobs: 0, abortedRemoteJob: false };
  const cancelled = await ctx.store.setStatus(runId, 'cancelled');
  if (!cancelled) return { cancelled: false, removedJobs: 0, abortedRemoteJob: false };
  const removedJobs = await removeRunJobs(ctx, runId);
  let abortedRemoteJob = false;
  const state = await ctx.store.require(runId);
  const spec = await ctx.store.spec(runId);
  const remoteRunning =
    state.timings.start !== undefined && !['completed', 'failed'].includes(state.job?.state ?? 'pending');
  if (remoteRunning) {
    try {
      await ctx.client.abortJob(spec.jobId);
      abortedRemoteJob = true;
    } catch (error) {
      // 404: the start never reached the API. Anything else is worth a warning, not a failed cancel.
      if (!(error instanceof ApiError && error.status === 404)) {
        await ctx.store.warn(
          runId,
          `the remote job "${spec.jobId}" could not be aborted: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
  }
  ctx.logger.info({ runId, removedJobs, abortedRemoteJob }, 'run cancelled');
  return { cancelled: true, removedJobs, abortedRemoteJob };
}

export interface RetryResult {
  attempt: number;
  /** The stage the run resumes at (its resume point: a failed download resumes at collect). */
  resumedAt: Stage;
  /** True when the failed remote job was restarted (with the overrides, when given). */
  restartedRemoteJob: boolean;
  /** Present when the staged data had expired: the run moved to fresh batch and job ids (restage.ts). */
  restaged?: RestageResult;
}

const STATUS_AT: Record<Stage, RunStatus> = {
  plan: 'planning',
  upload: 'uploading',
  verify: 'verifying',
  start: 'starting',
  await: 'processing',
  collect: 'exporting',
  download: 'exporting',
  finalize: 'exporting',
};

/** The stage a cancelled run was in: the last one that started. */
function lastStartedStage(state: RunState): Stage {
  const started = Stage.options.filter((s) => state.timings[s] !== undefined);
  return started[started.length - 1] ?? 'plan';
}

/**
 * Retries a failed (or cancelled) run as a new attempt, resuming at the stage that failed
 * (RESUME_POINT): what is already uploaded is not uploaded again, finished downloads are not fetched
 * again. When the remote job has failed (or was aborted), it is restarted — with `overrides` when
 * given — and followed again.
 */
export async function retryRun(
  ctx: ServiceContext,
  runId: string,
  overrides?: RetryOverridesForApi,
): Promise<RetryResult> {
  const state = await requireOrLost(ctx, runId);
  if (state.status !== 'failed' && state.status !== 'cancelled') {
    throw new RfbatchError(
      ErrorCode.validation,
      `run "${runId}" is ${state.status}; only a failed or cancelled run can be retried`,
      {
        hint:
          state.status === 'completed'
            ? 'submit a new run to process the source again'
            : `follow it with \`rfbatch watch ${runId}\``,
      },
    );
  }
  const spec = await ctx.store.spec(runId);
  const failedAt: Stage = state.failedStage ?? lastStartedStage(state);
  let resumedAt: Stage = failedAt;
  let restartedRemoteJob = false;
  const body = overrides
    ? RestartOverrides.parse({ ...overrides, type: 'parameters-override-v1' })
    : undefined;

  // Inputs (or outputs not yet downloaded) that expired are staged again, into a fresh batch (restage.ts).
  const expired = await expiredStagedData(ctx, spec, state, failedAt);
  const restaged = expired ? await restageRun(ctx, spec, state.attempt + 1, expired, overrides) : undefined;
  if (restaged) resumedAt = 'plan';

  // A remote job that ended in failure must be restarted: starting it again is a no-op for the API.
  const remoteMayExist = !restaged && Stage.options.indexOf(failedAt) >= Stage.options.indexOf('await');
  if (remoteMayExist) {
    const { state: remote } = await ctx.client.getJob(spec.jobId);
    if (remote.terminal && remote.error) {
      await ctx.client.restartJob(spec.jobId, body);
      restartedRemoteJob = true;
      resumedAt = 'await';
      await forgetExport(ctx, runId);
    }
  }
  if (body && !restartedRemoteJob && !restaged) {
    throw new RfbatchError(
      ErrorCode.validation,
      `run "${runId}" has no failed remote job to restart with overrides (it failed at ${failedAt})`,
      {
        hint: `retry without overrides: \`rfbatch retry ${runId}\``,
      },
    );
  }

  const point = RESUME_POINT[resumedAt];
  // The resume point's job is named after its stage (a failed download resumes at collect).
  resumedAt = Stage.parse(point.name);
  const attempt = await ctx.store.reopen(runId, STATUS_AT[resumedAt]);
  const jobId = stageJobId(point.name, runId, attempt);
  const payload = { runId, attempt };
  const delay = restartedRemoteJob ? 1_000 : 0;
  await enqueue(ctx.queues, point.queue, point.name as JobName<QueueName>, payload as never, {
    jobId,
    delay,
  });
  ctx.logger.info(
    { runId, attempt, resumedAt, restartedRemoteJob, restaged: restaged !== undefined },
    'run retried',
  );
  return { attempt, resumedAt, restartedRemoteJob, ...(restaged ? { restaged } : {}) };
}

/**
 * After a remote restart the outputs will be new: forget which export files were complete (the
 * export service keeps one `download:<file>` checkpoint per finished file), so they are fetched again.
 */
async function forgetExport(ctx: ServiceContext, runId: string): Promise<void> {
  await ctx.store.clearDone(runId, 'download:');
}
