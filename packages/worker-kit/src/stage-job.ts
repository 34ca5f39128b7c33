import { UnrecoverableError, type Job } from 'bullmq';
import type { z } from 'zod';
import {
  describeError,
  ErrorCode,
  isControlFlow,
  isRetryable,
  JobCatalog,
  RfbatchError,
  TERMINAL_STATUSES,
  toBullError,
  type JobData,
  type JobName,
  type Logger,
  type QueueName,
  type ResolvedRunSpec,
  type RunErrorInfo,
  type RunState,
  type ServiceContext,
  type Stage,
} from '@rfbatch/shared';
import { RemoteJobFailedError } from '@rfbatch/shared';

/** What a stage processor gets: the parsed payload, the run as it is now, and a child logger. */
export interface StageContext<Q extends QueueName, N extends JobName<Q>> {
  data: JobData<Q, N>;
  run: RunState;
  spec: ResolvedRunSpec;
  log: Logger;
}

/** The user-facing error of a failed run, from anything thrown. */
export function runErrorOf(error: unknown): RunErrorInfo {
  if (error instanceof RfbatchError)
    return {
      code: error.code,
      message: error.message,
      ...(error.hint ? { hint: error.hint } : {}),
      ...(error instanceof RemoteJobFailedError ? { triage: error.triage } : {}),
    };
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof RfbatchError) return runErrorOf(cause);
  return { code: ErrorCode.run, message: describeError(error) };
}

/**
 * Parses the catalog part of a job's data. Keys the catalog does not know (a processor's own
 * progress, such as `wait` or `step`, written with updateData) are left to the processor.
 */
export function parsePayload<Q extends QueueName, N extends JobName<Q>>(
  queue: Q,
  name: N,
  job: Job,
): JobData<Q, N> {
  const schema = (JobCatalog[queue] as Record<string, z.ZodObject>)[name];
  if (!schema) throw new UnrecoverableError(`no job "${name}" in queue "${queue}"`);
  const raw = (job.data ?? {}) as Record<string, unknown>;
  const picked = Object.fromEntries(
    Object.keys(schema.shape)
      .filter((k) => k in raw)
      .map((k) => [k, raw[k]]),
  );
  const result = schema.safeParse(picked);
  if (!result.success) {
    const list = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new UnrecoverableError(`malformed ${queue}/${name} job ${job.id}: ${list}`);
  }
  return result.data as JobData<Q, N>;
}

/** True when this attempt of the job is its last one (BullMQ counts failed attempts in attemptsMade). */
export function isLastAttempt(job: Job): boolean {
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

/**
 * The processor boundary of every stage job:
 * - parses the payload (a malformed one fails at once);
 * - does nothing for a run that has ended (cancelled, failed, completed) or for a job of an older
 *   attempt, so late or duplicate jobs are harmless;
 * - lets BullMQ's control-flow errors through;
 * - on a failure that will not be retried (non-retryable, or the last attempt) marks the run failed
 *   at `stage` with a redacted message, and stops BullMQ's retries.
 */
export async function runStageJob<Q extends QueueName, N extends JobName<Q>>(
  ctx: ServiceContext,
  job: Job,
  queue: Q,
  name: N,
  stage: Stage,
  fn: (s: StageContext<Q, N>) => Promise<unknown>,
): Promise<unknown> {
  const data = parsePayload(queue, name, job);
  const runId = (data as { runId: string }).runId;
  const attempt = (data as { attempt: number }).attempt;
  const log = ctx.logger.child({ runId, queue, job: name, attempt, jobId: job.id });
  const run = await ctx.store.get(runId);
  if (!run) throw new UnrecoverableError(`run "${runId}" is unknown (job ${job.id})`);
  if (TERMINAL_STATUSES.includes(run.status)) {
    log.info({ status: run.status }, 'run has ended; nothing to do');
    return { skipped: run.status };
  }
  if (run.attempt !== attempt) {
    log.info({ runAttempt: run.attempt }, 'job of an older attempt; nothing to do');
    return { skipped: 'stale' };
  }
  try {
    const spec = await ctx.store.spec(runId);
    return await fn({ data, run, spec, log });
  } catch (error) {
    if (isControlFlow(error)) throw error;
    const final = error instanceof UnrecoverableError || !isRetryable(error) || isLastAttempt(job);
    if (!final) {
      log.warn({ err: error, attemptsMade: job.attemptsMade }, `${stage} failed; BullMQ will retry`);
      throw error;
    }
    log.error({ err: error }, `${stage} failed; the run fails`);
    await ctx.store.fail(runId, stage, runErrorOf(error));
    throw error instanceof UnrecoverableError ? error : new UnrecoverableError(toBullError(error).message);
  }
}

/**
 * For failures that never reach the processor's catch (a job that stalled too often, a lost lock):
 * when a stage job has failed for good, the run fails too. A no-op when the run has already ended.
 */
export async function failRunOnFinalJobFailure(
  ctx: ServiceContext,
  job: Job,
  error: Error,
  stage: Stage,
): Promise<void> {
  const data = job.data as { runId?: unknown; attempt?: unknown };
  if (typeof data.runId !== 'string') return;
  if ((await job.getState()) !== 'failed') return;
  const run = await ctx.store.get(data.runId);
  if (!run || TERMINAL_STATUSES.includes(run.status) || run.attempt !== (data.attempt ?? 0)) return;
  await ctx.store.fail(data.runId, stage, {
    code: ErrorCode.run,
    message: `${job.name} job ${job.id} failed: ${error.message}`,
    hint: `see the job in Bull Board; \`rfbatch retry ${data.runId}\` resumes the run`,
  });
}
