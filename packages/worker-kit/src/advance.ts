import type { Job } from 'bullmq';
import {
  enqueue,
  stageJobId,
  type JobInput,
  type JobName,
  type QueueName,
  type RunStatus,
  type ServiceContext,
  type Stage,
} from '@rfbatch/shared';

/** The jobs of queue `Q` whose payload is just the run reference: the ones a run is handed to. */
export type HandOffJob<Q extends QueueName> = {
  [N in JobName<Q>]: { runId: string; attempt: number } extends JobInput<Q, N> ? N : never;
}[JobName<Q>];

export interface Advance<Q extends QueueName> {
  /** The stage that ends here (its end time is recorded first). */
  from?: Stage;
  /** The next job of the run. */
  to: { queue: Q; name: HandOffJob<Q> };
  /** The run's status once the next job exists (whoever sees the status finds the job). */
  status?: RunStatus;
  /** How long the next job waits before it runs. */
  delayMs?: number;
}

/**
 * Hands a run to its next stage: ends `from`, adds the next job under its deterministic id (adding it
 * twice is a no-op) and then sets `status` (a terminal run keeps its status).
 */
export async function advance<Q extends QueueName>(
  ctx: ServiceContext,
  runId: string,
  attempt: number,
  step: Advance<Q>,
): Promise<Job> {
  if (step.from) await ctx.store.stageEnded(runId, step.from);
  const { queue, name } = step.to;
  // HandOffJob<Q> admits only jobs whose input is { runId, attempt }.
  const payload = { runId, attempt } as JobInput<Q, HandOffJob<Q>>;
  const job = await enqueue(ctx.queues, queue, name, payload, {
    jobId: stageJobId(name, runId, attempt),
    ...(step.delayMs !== undefined ? { delay: step.delayMs } : {}),
  });
  if (step.status) await ctx.store.setStatus(runId, step.status);
  return job;
}
