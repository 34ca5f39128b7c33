import { UnrecoverableError, Worker, type Job } from 'bullmq';
import {
  JobCatalog,
  type JobName,
  type QueueName,
  type RunningService,
  type ServiceContext,
  type Stage,
} from '@rfbatch/shared';
import { failRunOnFinalJobFailure } from './stage-job.js';

export type StageProcessor = (job: Job, token?: string) => Promise<unknown>;

/** One processor per job name of a queue: a missing one is a compile error (and a start-up error). */
export type ProcessorMap<Q extends QueueName> = { [N in JobName<Q>]: StageProcessor };

export interface StageWorkerOptions<Q extends QueueName> {
  queue: Q;
  processors: ProcessorMap<Q>;
  /** The run stage each job name stands for (where a failed job fails the run). */
  stages: { [N in JobName<Q>]: Stage };
  concurrency: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
}

/**
 * A BullMQ worker for one queue that dispatches by job name. Every job name of the catalog must have
 * a processor (checked at start-up); a job that fails for good outside the processor (stalled too
 * often) still fails its run.
 */
export function createStageWorker<Q extends QueueName>(
  ctx: ServiceContext,
  options: StageWorkerOptions<Q>,
): RunningService {
  const { queue, processors, stages } = options;
  const handlers = processors as Record<string, StageProcessor>;
  const missing = Object.keys(JobCatalog[queue]).filter((name) => typeof handlers[name] !== 'function');
  if (missing.length) throw new Error(`queue "${queue}" has no processor for: ${missing.join(', ')}`);
  const log = ctx.logger.child({ queue });
  const worker = new Worker(
    queue,
    async (job: Job, token?: string) => {
      const handler = handlers[job.name];
      if (!handler) throw new UnrecoverableError(`queue "${queue}" has no job "${job.name}"`);
      return handler(job, token);
    },
    {
      connection: ctx.connection,
      prefix: ctx.queues[queue].opts.prefix,
      concurrency: options.concurrency,
      lockDuration: options.lockDurationMs,
      stalledInterval: options.stalledIntervalMs,
      // A worker killed twice on the same job is rare; a third time means something is wrong.
      maxStalledCount: 2,
      autorun: true,
    },
  );
  worker.on('error', (err) => log.error({ err }, 'worker error'));
  worker.on('failed', (job, err) => {
    if (!job) return;
    const stage = (stages as Record<string, Stage>)[job.name];
    if (!stage) return;
    failRunOnFinalJobFailure(ctx, job, err, stage).catch((error: unknown) =>
      log.error({ err: error, jobId: job.id }, 'could not record a failed job'),
    );
  });
  return {
    name: queue,
    workers: [worker],
    close: () => worker.close(),
  };
}
