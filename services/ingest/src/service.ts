import { UnrecoverableError, Worker, type Job } from 'bullmq';
import {
  ErrorCode,
  JobCatalog,
  receive,
  uploadToSignedUrl,
  type JobName,
  type Queues,
  type QueueName,
  type RunningService,
  type ServiceContext,
  type Stage,
  type StartService,
  type UploadToSignedUrl,
} from '@rfbatch/shared';
import { handleProcessorError, isFinalFailure, unitLabel } from './failure.js';
import { filesProcessor } from './files.processor.js';
import { intakeProcessor } from './intake.processor.js';
import { resolveIngestOptions, type IngestOptions } from './options.js';
import { planProcessor } from './plan.processor.js';
import type { IngestDeps, JobContext, ProcessorMap } from './processor.js';
import { referencesProcessor } from './references.processor.js';
import { shardProcessor } from './shard.processor.js';

/** The handlers of the two queues ingest serves, typed against the job catalog. */
export const runsProcessors: ProcessorMap<'runs'> = { intake: intakeProcessor };
export const ingestProcessors: ProcessorMap<'ingest'> = {
  plan: planProcessor,
  shard: shardProcessor,
  files: filesProcessor,
  references: referencesProcessor,
};

/** Manual rate limits (worker.rateLimit) only take effect on a worker that has a limiter; this one never binds. */
const OPEN_LIMITER = { max: 1_000_000, duration: 1_000 };

/** At start-up: every job name of the catalog has exactly one handler, and nothing else has one. */
export function assertHandlers(queue: QueueName, processors: Record<string, unknown>): void {
  const expected = Object.keys(JobCatalog[queue]).sort();
  const actual = Object.keys(processors).sort();
  const missing = expected.filter((n) => typeof processors[n] !== 'function');
  const extra = actual.filter((n) => !expected.includes(n));
  if (missing.length || extra.length) {
    throw new Error(
      `queue "${queue}" handlers do not match the job catalog: missing [${missing}], unknown [${extra}]`,
    );
  }
}

function stageOf(queue: QueueName, name: string): Stage {
  return queue === 'runs' || name === 'plan' ? 'plan' : 'upload';
}

function createWorker<Q extends 'runs' | 'ingest'>(
  queue: Q,
  processors: ProcessorMap<Q>,
  concurrency: number,
  deps: IngestDeps,
): Worker {
  assertHandlers(queue, processors as Record<string, unknown>);
  const { ctx, options } = deps;
  const base = ctx.logger.child({ service: 'ingest', queue });
  const worker: Worker = new Worker(
    queue,
    async (job: Job, token?: string, signal?: AbortSignal) => {
      const name = job.name as JobName<Q>;
      const handler = (processors as Record<string, ProcessorMap<Q>[JobName<Q>] | undefined>)[name];
      if (!handler) throw new UnrecoverableError(`no handler for ${queue}/${job.name} (job ${job.id})`);
      const data = receive(queue, name, job);
      const runId = (data as { runId?: string }).runId ?? (data as { spec?: { runId?: string } }).spec?.runId;
      const jc: JobContext = {
        job,
        token,
        signal,
        worker,
        log: base.child({ runId, job: job.name, jobId: job.id, attempt: job.attemptsMade }),
        stage: stageOf(queue, job.name),
      };
      try {
        return await (handler as (d: typeof data, jc: JobContext, deps: IngestDeps) => Promise<unknown>)(
          data,
          jc,
          deps,
        );
      } catch (error) {
        return handleProcessorError(error, jc, ctx.store, runId);
      }
    },
    {
      connection: ctx.connection,
      prefix: ctx.config.redis.prefix,
      concurrency,
      limiter: OPEN_LIMITER,
      lockDuration: options.lockDurationMs,
      stalledInterval: options.stalledIntervalMs,
      // A worker killed mid-upload leaves its job "stalled": it is picked up again, once.
      maxStalledCount: 2,
    },
  );
  worker.on('error', (err) => base.error({ err }, 'worker error'));
  // Backstop for failures no processor saw (a job that stalled too often, a parent failed by BullMQ):
  // the run must not stay "uploading" forever. A no-op when the run is already terminal.
  worker.on('failed', (job, err) => {
    if (!job || !isFinalFailure(job, err)) return;
    const runId = (job.data as { runId?: unknown }).runId;
    if (typeof runId !== 'string') return;
    const child = job.name !== 'plan';
    void ctx.store
      .fail(runId, stageOf(queue, job.name), {
        code: ErrorCode.run,
        message: child ? `${unitLabel(job)}: ${err.message}` : err.message,
      })
      .catch((error: unknown) => base.warn({ err: error, runId }, 'could not record the failure of the run'));
  });
  return worker;
}

/**
 * Starts the ingest service: a worker on `runs` (intake) and one on `ingest` (plan, shard, files,
 * references). Several processes on several machines may run it against the same Redis; the work dir
 * and the source folders must then be shared storage.
 */
export const startIngest: StartService = async (ctx: ServiceContext, options: IngestOptions = {}) => {
  const resolved = resolveIngestOptions(options);
  const deps: IngestDeps = { ctx, options: resolved, upload: options.upload ?? uploadToSignedUrl };
  const workers = [
    createWorker('runs', runsProcessors, resolved.runsConcurrency, deps),
    createWorker('ingest', ingestProcessors, resolved.concurrency, deps),
  ];
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  ctx.logger.info({ concurrency: resolved.concurrency }, 'ingest service started');
  const running: RunningService = {
    name: 'ingest',
    workers,
    async close() {
      await Promise.all(workers.map((w) => w.close()));
    },
  };
  return running;
};

/**
 * For `onRateLimited` of the client: when the API says "slow down" to any request, every ingest
 * worker stops taking new jobs for that long (in-flight requests wait in the client's own backoff).
 * The client is made before the queues, hence `attach`.
 */
export function ingestRateLimiter(): {
  onRateLimited: (retryAfterMs: number) => void;
  attach(queues: Queues): void;
} {
  let target: Queues | undefined;
  return {
    onRateLimited(retryAfterMs) {
      void target?.ingest.rateLimit(Math.max(1, Math.round(retryAfterMs))).catch(() => {});
    },
    attach(queues) {
      target = queues;
    },
  };
}

export type { UploadToSignedUrl };
