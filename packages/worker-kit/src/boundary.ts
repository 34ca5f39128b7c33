import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import {
  catalogEntry,
  checkRootsReally,
  jobRunId,
  TERMINAL_STATUSES,
  type Logger,
  type QueueName,
  type RunSpec,
  type RunState,
  type ServiceContext,
  type Stage,
} from '@rfbatch/shared';
import { isControlFlow, toBullError } from './bull-errors.js';
import { isFinalFailure } from './last-attempt.js';
import { parseJob } from './parse-job.js';
import type { JobContext, RunContext, SkipPolicy } from './processor.js';
import { countBounce, isRateLimited, MAX_RATE_LIMIT_BOUNCES, rateLimitWaitMs } from './rate-limit.js';
import { runErrorOf } from './run-error.js';

/** A processor with its job types erased: what the worker dispatches to by job name. */
export interface AnyProcessor<D> {
  readonly queue: QueueName;
  readonly name: string;
  readonly skip: SkipPolicy;
  readonly unit: ((data: never) => string) | undefined;
  readonly handle: (jc: never, deps: D) => Promise<unknown>;
}

/** What the boundary of one worker holds. */
export interface Boundary<D> {
  ctx: ServiceContext;
  deps: D;
  worker: Worker;
  log: Logger;
  /** A 429 pauses the whole queue (worker.rateLimit) instead of spending an attempt. */
  pauseOnRateLimit: boolean;
}

/** The context the boundary builds, before it is handed to a processor as its typed ProcessorContext. */
type Ctx = Omit<JobContext<QueueName, never>, 'data' | 'state' | 'saveState' | 'delay'> &
  Partial<RunContext> & {
    data: Record<string, unknown>;
    state: Record<string, unknown>;
    saveState(patch: Record<string, unknown>): Promise<void>;
    delay(delayMs: number, patch?: Record<string, unknown>): Promise<never>;
  };

/**
 * The processor boundary of every stage job:
 * - parses the payload (a malformed one fails at once) and the kept state;
 * - for a run-bound job, loads the run and, by the processor's skip policy, does nothing for a run
 *   that has ended or a job of an older attempt (late or duplicate jobs are harmless);
 * - lets BullMQ's control-flow errors through;
 * - a 429 that outlasted the client's retries slows the whole queue and puts the job back without
 *   spending an attempt (bounded), when the worker asks for it;
 * - a failure that will not be retried (non-retryable, or the last attempt) fails the run at the
 *   job's stage, naming the unit; non-retryable errors become UnrecoverableError.
 */
export async function runBoundary<D>(
  b: Boundary<D>,
  processor: AnyProcessor<D>,
  job: Job,
  token: string | undefined,
  signal: AbortSignal | undefined,
): Promise<unknown> {
  const { queue, name } = processor;
  const { data, state, dropped } = parseJob(queue, name as never, job);
  const payload = data as Record<string, unknown>;
  const runId = jobRunId(payload);
  const attempt = typeof payload.attempt === 'number' ? payload.attempt : undefined;
  const log = b.log.child({ runId, job: name, bullJobId: job.id, attempt, attemptsMade: job.attemptsMade });
  if (dropped.length) log.warn({ keys: dropped }, 'kept job state unreadable; starting it over');
  const jc: Ctx = {
    queue,
    name: name as never,
    data: payload,
    state,
    job,
    token,
    signal,
    log,
    stage: (catalogEntry(queue, name) as { stage: Stage }).stage,
    async saveState(patch) {
      await job.updateData({ ...(job.data as object), ...patch });
      Object.assign(jc.state, patch);
    },
    async delay(delayMs, patch) {
      if (patch) await jc.saveState(patch);
      await job.moveToDelayed(Date.now() + delayMs, token);
      throw new DelayedError();
    },
  };
  let run: RunState | undefined;
  if (typeof payload.runId === 'string') {
    // A run-bound job: its payload names the run (an intake's run does not exist yet).
    run = (await b.ctx.store.get(payload.runId)) ?? undefined;
    if (!run)
      throw new UnrecoverableError(
        `the state of run "${payload.runId}" is lost (job ${job.id}: Redis no longer knows the run); \`rfbatch recover ${payload.runId}\` rebuilds it from the work dir and the API`,
      );
    const skipped = skipReason(processor.skip, run, attempt ?? 0);
    if (skipped) {
      log.info({ status: run.status, runAttempt: run.attempt }, `${skipped.why}; nothing to do`);
      return { skipped: skipped.as };
    }
  }
  try {
    if (run) Object.assign(jc, { run, spec: await b.ctx.store.spec(run.runId) });
    // Allowed roots, on the real paths (symlinks resolved): again at every job, so a link planted
    // after the submit cannot lead a stage out of them. An intake checks the spec it carries.
    const confined = (jc as { spec?: RunSpec }).spec ?? (payload.spec as RunSpec | undefined);
    if (confined?.source && confined.output) await checkRootsReally(confined, b.ctx.config.roots);
    return await processor.handle(jc as never, b.deps);
  } catch (error) {
    throw await settle(b, processor, jc, runId, error);
  }
}

function skipReason(
  policy: SkipPolicy,
  run: RunState,
  attempt: number,
): { why: string; as: string } | undefined {
  if (policy === 'never') return undefined;
  if (TERMINAL_STATUSES.includes(run.status)) return { why: 'run has ended', as: run.status };
  if (policy === 'ended-or-stale' && run.attempt !== attempt)
    return { why: 'job of an older attempt', as: 'stale' };
  return undefined;
}

/** What the boundary throws for `error`, after failing the run when BullMQ will not try again. */
async function settle<D>(
  b: Boundary<D>,
  processor: AnyProcessor<D>,
  jc: Ctx,
  runId: string | undefined,
  error: unknown,
): Promise<Error> {
  const { job, log } = jc;
  if (isControlFlow(error)) return error as Error;
  if (
    b.pauseOnRateLimit &&
    isRateLimited(error) &&
    runId &&
    (await countBounce(b.ctx.store, runId, job)) <= MAX_RATE_LIMIT_BOUNCES
  ) {
    const waitMs = rateLimitWaitMs(error);
    log.warn({ waitMs }, 'the API asks us to slow down: pausing every worker of this queue');
    await b.worker.rateLimit(waitMs);
    return Worker.RateLimitError();
  }
  const final = isFinalFailure(job, error);
  if (!final) {
    log.warn({ err: error, stage: jc.stage }, `${jc.stage} failed; BullMQ will retry`);
    return toBullError(error);
  }
  log.error({ err: error, stage: jc.stage }, `${jc.stage} failed for good; the run fails`);
  if (runId) {
    const unit = (processor.unit as ((data: unknown) => string) | undefined)?.(jc.data);
    await b.ctx.store.fail(runId, jc.stage, runErrorOf(error, unit));
  }
  return toBullError(error);
}
