import { SharedSlots, uploadToSignedUrl, type ServiceContext, type StartService } from '@rfbatch/shared';
import {
  createStageWorker,
  queueRateLimiter,
  startStageService,
  type ProcessorMap,
  type QueueRateLimiter,
} from '@rfbatch/worker-kit';
import type { IngestDeps } from './deps.js';
import { filesProcessor } from './files.processor.js';
import { intakeProcessor } from './intake.processor.js';
import { resolveIngestOptions, type IngestOptions } from './options.js';
import { planProcessor } from './plan.processor.js';
import { referencesProcessor } from './references.processor.js';
import { shardProcessor } from './shard.processor.js';

/** The handlers of the two queues ingest serves, typed against the job catalog. */
export const runsProcessors = { intake: intakeProcessor } satisfies ProcessorMap<'runs', IngestDeps>;
export const ingestProcessors = {
  plan: planProcessor,
  shard: shardProcessor,
  files: filesProcessor,
  references: referencesProcessor,
} satisfies ProcessorMap<'ingest', IngestDeps>;

/**
 * Starts the ingest service: a worker on `runs` (intake) and one on `ingest` (plan, shard, files,
 * references). Several processes on several machines may run it against the same Redis; the work dir
 * and the source folders must then be shared storage. A 429 that outlasts the client's retries
 * pauses the whole queue (the worker kit's pauseOnRateLimit).
 */
export const startIngest: StartService = async (ctx: ServiceContext, options: IngestOptions = {}) => {
  const resolved = resolveIngestOptions(options);
  const deps: IngestDeps = {
    ctx,
    options: resolved,
    upload: options.upload ?? uploadToSignedUrl,
    uploadSlot: uploadSlots(ctx, resolved.sharedUploads),
  };
  const common = {
    deps,
    lockDurationMs: resolved.lockDurationMs,
    stalledIntervalMs: resolved.stalledIntervalMs,
    pauseOnRateLimit: true,
    service: 'ingest',
  };
  const running = await startStageService('ingest', [
    createStageWorker(ctx, {
      ...common,
      queue: 'runs',
      processors: runsProcessors,
      concurrency: resolved.runsConcurrency,
    }),
    createStageWorker(ctx, {
      ...common,
      queue: 'ingest',
      processors: ingestProcessors,
      concurrency: resolved.concurrency,
    }),
  ]);
  ctx.logger.info(
    { concurrency: resolved.concurrency, sharedUploads: resolved.sharedUploads ?? null },
    'ingest service started',
  );
  return running;
};

/** The upload slots of every ingest process on this Redis and prefix, when a shared cap is set. */
function uploadSlots(ctx: ServiceContext, limit: number | undefined): IngestDeps['uploadSlot'] {
  if (limit === undefined) return (send) => send();
  const slots = new SharedSlots(ctx.store.redis, {
    key: `${ctx.store.prefix}:slots:uploads`,
    limit,
    what: 'upload streams',
    setting: 'RFBATCH_INGEST_SHARED_UPLOADS',
    onLeaseLost: () =>
      ctx.logger.warn(
        { sharedUploads: limit },
        'an upload slot lease ran out before it was renewed (the process stalled, or Redis lost the slots) and every slot is taken: this upload finishes beyond the shared cap',
      ),
  });
  return (send, signal) => slots.hold(send, signal);
}

/**
 * For `onRateLimited` of the client: when the API says "slow down" to any request, every ingest
 * worker stops taking new jobs for that long (the worker kit's queueRateLimiter).
 */
export function ingestRateLimiter(): QueueRateLimiter {
  return queueRateLimiter('ingest');
}
