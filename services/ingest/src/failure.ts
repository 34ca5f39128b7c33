import { UnrecoverableError, Worker, type Job } from 'bullmq';
import {
  ErrorCode,
  RfbatchError,
  toBullError,
  describeError,
  isControlFlow,
  type RunStore,
} from '@rfbatch/shared';
import type { JobContext } from './processor.js';

/** Rate-limit bounces of one job before its 429s count as ordinary (retried, then final) failures. */
export const MAX_RATE_LIMIT_BOUNCES = 20;
const DEFAULT_RATE_LIMIT_MS = 1_000;

function isRateLimited(error: unknown): error is RfbatchError {
  return error instanceof RfbatchError && (error.status === 429 || error.code === ErrorCode.apiRateLimited);
}

/** What the user reads about a run that failed in a unit: `shard 3: "a/x.png" changed size ...`. */
export function unitLabel(job: Job): string {
  const d = job.data as { shard?: number; group?: number; chunk?: number };
  if (d.shard !== undefined) return `shard ${d.shard}`;
  if (d.group !== undefined) return `upload group ${d.group}`;
  if (d.chunk !== undefined) return `references chunk ${d.chunk}`;
  return job.name;
}

/**
 * The processor boundary. A 429 that outlasted the client's retries slows the whole queue
 * (`worker.rateLimit` honouring Retry-After) and puts the job back without spending an attempt.
 * Any other error becomes what BullMQ should do with it (non-retryable → UnrecoverableError);
 * when that is the job's last try, the run is failed first, with a message naming the unit.
 */
export async function handleProcessorError(
  error: unknown,
  jc: JobContext,
  store: RunStore,
  runId: string | undefined,
): Promise<never> {
  if (isControlFlow(error)) throw error;
  if (
    isRateLimited(error) &&
    runId &&
    (await rateLimitBounces(store, runId, jc.job)) <= MAX_RATE_LIMIT_BOUNCES
  ) {
    const waitMs = (error as { retryAfterMs?: number }).retryAfterMs ?? DEFAULT_RATE_LIMIT_MS;
    jc.log.warn({ waitMs }, 'the API asks us to slow down: pausing every worker of this queue');
    await jc.worker.rateLimit(waitMs);
    throw Worker.RateLimitError();
  }
  const bull = toBullError(error);
  const final = bull instanceof UnrecoverableError || jc.job.attemptsMade + 1 >= (jc.job.opts.attempts ?? 1);
  jc.log[final ? 'error' : 'warn'](
    { err: error, final },
    final ? 'job failed for good' : 'job failed; it will be retried',
  );
  if (final && runId) {
    const child = jc.job.name !== 'plan' && jc.job.name !== 'intake';
    const message = child ? `${unitLabel(jc.job)}: ${messageOf(error)}` : messageOf(error);
    await store.fail(runId, jc.stage, {
      code: error instanceof RfbatchError ? error.code : ErrorCode.run,
      message,
      ...(error instanceof RfbatchError && error.hint ? { hint: error.hint } : {}),
    });
  }
  throw bull;
}

/** After this failure BullMQ will not run the job again. */
export function isFinalFailure(job: Job, error: Error): boolean {
  return (
    error instanceof UnrecoverableError ||
    error.name === 'UnrecoverableError' ||
    job.attemptsMade >= (job.opts.attempts ?? 1)
  );
}

function messageOf(error: unknown): string {
  return error instanceof RfbatchError ? error.message : describeError(error);
}

async function rateLimitBounces(store: RunStore, runId: string, job: Job): Promise<number> {
  const key = store.key(runId, 'ratelimited');
  const n = await store.redis.hincrby(key, job.id ?? job.name, 1);
  await store.redis.expire(key, 7 * 24 * 3600);
  return n;
}
