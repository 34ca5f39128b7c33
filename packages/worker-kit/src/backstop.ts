import type { Job } from 'bullmq';
import {
  catalogEntry,
  ErrorCode,
  TERMINAL_STATUSES,
  type QueueName,
  type ServiceContext,
} from '@rfbatch/shared';
import type { AnyProcessor } from './boundary.js';
import { hasFailedForGood } from './last-attempt.js';
import { parseJob } from './parse-job.js';

/**
 * The `failed`-event backstop, for failures the boundary could not record (a lost lock, a store that
 * failed while the run was being failed): when BullMQ has given a job up, its run fails too. A no-op
 * when the run has ended already, or the job is of an older attempt.
 */
export async function failRunOnFinalJobFailure<D>(
  ctx: ServiceContext,
  queue: QueueName,
  processor: AnyProcessor<D> | undefined,
  job: Job,
  error: Error,
): Promise<void> {
  const entry = catalogEntry(queue, job.name);
  if (!entry || !hasFailedForGood(job)) return;
  // Only a run-bound job (its payload names the run) fails a run here: an intake has none yet.
  const { runId, attempt = 0 } = job.data as { runId?: unknown; attempt?: unknown };
  if (typeof runId !== 'string') return;
  const run = await ctx.store.get(runId);
  if (!run || TERMINAL_STATUSES.includes(run.status) || run.attempt !== attempt) return;
  const unit = processor?.unit ? unitOf(queue, processor, job) : undefined;
  await ctx.store.fail(runId, entry.stage, {
    code: ErrorCode.run,
    message: unit ? `${unit}: ${error.message}` : `${job.name} job ${job.id} failed: ${error.message}`,
    hint: `see the job in Bull Board; \`rfbatch retry ${runId}\` resumes the run`,
  });
}

function unitOf<D>(queue: QueueName, processor: AnyProcessor<D>, job: Job): string | undefined {
  try {
    const { data } = parseJob(queue, processor.name as never, job);
    return (processor.unit as (data: unknown) => string)(data);
  } catch {
    return undefined;
  }
}
