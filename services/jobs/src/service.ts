import type { RunningService, ServiceContext } from '@rfbatch/shared';
import { createStageWorker, startStageService, type ProcessorMap } from '@rfbatch/worker-kit';
import { awaitProcessor } from './await.processor.js';
import type { JobsDeps } from './deps.js';
import { resolveJobsOptions, type JobsServiceOptions } from './options.js';
import { startProcessor } from './start.processor.js';
import { verifyProcessor } from './verify.processor.js';

/** The handlers of the `jobs` queue, typed against the job catalog. */
const jobsProcessors = {
  verify: verifyProcessor,
  start: startProcessor,
  await: awaitProcessor,
} satisfies ProcessorMap<'jobs', JobsDeps>;

/** Starts the jobs service: one worker on the `jobs` queue for verify, start and await. */
export async function startJobs(ctx: ServiceContext, options?: JobsServiceOptions): Promise<RunningService> {
  const opts = resolveJobsOptions(options);
  return startStageService('jobs', [
    createStageWorker(ctx, {
      queue: 'jobs',
      processors: jobsProcessors,
      deps: { ctx, options: opts },
      concurrency: opts.concurrency,
      lockDurationMs: opts.lockDurationMs,
      stalledIntervalMs: opts.stalledIntervalMs,
      service: 'jobs',
    }),
  ]);
}
