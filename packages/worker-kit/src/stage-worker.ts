import { MetricsTime, UnrecoverableError, Worker, type Job } from 'bullmq';
import {
  bullmqTelemetry,
  jobNames,
  type QueueName,
  type RunningService,
  type ServiceContext,
} from '@rfbatch/shared';
import { failRunOnFinalJobFailure } from './backstop.js';
import { runBoundary, type AnyProcessor, type Boundary } from './boundary.js';
import type { ExactProcessorMap } from './processor.js';
import { OPEN_LIMITER } from './rate-limit.js';

export interface StageWorkerOptions<Q extends QueueName, D, P> {
  queue: Q;
  /** One processor per job name of the queue's catalog, nothing else (compile time and start-up). */
  processors: P & ExactProcessorMap<Q, D, P>;
  /** What the service's processors need (its context, options, helpers), passed to each handler. */
  deps: D;
  concurrency: number;
  /** How long a worker's lock on a job lasts without renewal; a killed worker's job is retried after it. */
  lockDurationMs: number;
  /** How often the worker looks for jobs whose worker died. */
  stalledIntervalMs: number;
  /**
   * A 429 that outlasted the client's retries pauses every worker of this queue for its Retry-After
   * (worker.rateLimit) and puts the job back without spending an attempt, at most
   * MAX_RATE_LIMIT_BOUNCES times per job. @defaultValue false (a 429 is an ordinary retryable failure)
   */
  pauseOnRateLimit?: boolean;
  /** The service name in the worker's log lines. */
  service?: string;
}

/**
 * At start-up: every job name of the queue's catalog has exactly one processor, defined for that job,
 * and nothing else has one.
 */
export function assertProcessors(queue: QueueName, processors: Record<string, unknown>): void {
  const expected = jobNames(queue) as string[];
  const actual = Object.keys(processors);
  const missing = expected.filter((n) => !isProcessor(processors[n]));
  const extra = actual.filter((n) => !expected.includes(n));
  const misplaced = expected.filter((n) => {
    const p = processors[n];
    return isProcessor(p) && (p.queue !== queue || p.name !== n);
  });
  if (missing.length || extra.length || misplaced.length) {
    const wrong = misplaced.length
      ? `, defined for another job [${misplaced.map((n) => `${n}: ${describe(processors[n])}`)}]`
      : '';
    throw new Error(
      `queue "${queue}" handlers do not match the job catalog: missing [${missing}], unknown [${extra}]${wrong}`,
    );
  }
}

function isProcessor(value: unknown): value is AnyProcessor<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { handle?: unknown }).handle === 'function'
  );
}

function describe(value: unknown): string {
  const p = value as AnyProcessor<unknown>;
  return `${p.queue}/${p.name}`;
}

/**
 * A BullMQ worker for one queue that dispatches by job name through the processor boundary. A job
 * that fails for good outside the boundary still fails its run (the `failed`-event backstop).
 */
export function createStageWorker<Q extends QueueName, D, P>(
  ctx: ServiceContext,
  options: StageWorkerOptions<Q, D, P>,
): Worker {
  const { queue } = options;
  const processors = options.processors as unknown as Record<string, AnyProcessor<D>>;
  assertProcessors(queue, processors);
  const log = ctx.logger.child({ ...(options.service ? { service: options.service } : {}), queue });
  const pauseOnRateLimit = options.pauseOnRateLimit ?? false;
  const worker: Worker = new Worker(
    queue,
    async (job: Job, token?: string, signal?: AbortSignal) => {
      const processor = Object.hasOwn(processors, job.name) ? processors[job.name] : undefined;
      if (!processor) throw new UnrecoverableError(`no handler for ${queue}/${job.name} (job ${job.id})`);
      return runBoundary(boundary, processor, job, token, signal);
    },
    {
      connection: ctx.connection,
      prefix: ctx.queues[queue].opts.prefix,
      concurrency: options.concurrency,
      lockDuration: options.lockDurationMs,
      stalledInterval: options.stalledIntervalMs,
      // A worker killed twice on the same job is rare; a third time means something is wrong.
      maxStalledCount: 2,
      // Per-minute completed/failed counts for BullMQ's own series (the gateway's bullmq_job_*_total).
      metrics: { maxDataPoints: MetricsTime.ONE_WEEK },
      // A consumer span per job, in the trace of the job that added it (while tracing is on).
      ...bullmqTelemetry(),
      ...(pauseOnRateLimit ? { limiter: OPEN_LIMITER } : {}),
    },
  );
  const boundary: Boundary<D> = { ctx, deps: options.deps, worker, log, pauseOnRateLimit };
  worker.on('error', (err) => log.error({ err }, 'worker error'));
  worker.on('failed', (job, err) => {
    if (!job) return;
    failRunOnFinalJobFailure(ctx, queue, processors[job.name], job, err).catch((error: unknown) =>
      log.error({ err: error, bullJobId: job.id }, 'could not record a failed job'),
    );
  });
  return worker;
}

/** The started service of `workers`: ready to take jobs, and closed together. */
export async function startStageService(name: string, workers: Worker[]): Promise<RunningService> {
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  return {
    name,
    workers,
    async close() {
      await Promise.all(workers.map((w) => w.close()));
    },
  };
}
