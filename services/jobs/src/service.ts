import type { RunningService, ServiceContext } from '@rfbatch/shared';
import { awaitProcessor } from './await.processor.js';
import { resolveJobsOptions, type JobsServiceOptions } from './options.js';
import { startProcessor } from './start.processor.js';
import { verifyProcessor } from './verify.processor.js';
import { createStageWorker } from '@rfbatch/worker-kit';

/** Starts the jobs service: one worker on the `jobs` queue for verify, start and await. */
export async function startJobs(ctx: ServiceContext, options?: JobsServiceOptions): Promise<RunningService> {
  const opts = resolveJobsOptions(options);
  const service = createStageWorker(ctx, {
    queue: 'jobs',
    processors: {
      verify: (job, token) => verifyProcessor(ctx, opts, job, token),
      start: (job) => startProcessor(ctx, opts, job),
      await: (job, token) => awaitProcessor(ctx, opts, job, token),
    },
    stages: { verify: 'verify', start: 'start', await: 'await' },
    concurrency: opts.concurrency,
    lockDurationMs: opts.lockDurationMs,
    stalledIntervalMs: opts.stalledIntervalMs,
  });
  await service.workers[0]?.waitUntilReady();
  return { ...service, name: 'jobs' };
}
