import type { RunningService, ServiceContext } from '@rfbatch/shared';
import { collectProcessor } from './collect.processor.js';
import { downloadProcessor } from './download.processor.js';
import { finalizeProcessor } from './finalize.processor.js';
import { Listings } from './listings.js';
import { resolveExportOptions, type ExportServiceOptions } from './options.js';
import { createStageWorker } from '@rfbatch/worker-kit';

/** Starts the export service: one worker on the `export` queue for collect, download and finalize. */
export async function startExport(
  ctx: ServiceContext,
  options?: ExportServiceOptions,
): Promise<RunningService> {
  const opts = resolveExportOptions(options);
  const listings = new Listings(ctx.client, opts.urlCacheMs);
  const service = createStageWorker(ctx, {
    queue: 'export',
    processors: {
      collect: (job, token) => collectProcessor(ctx, opts, listings, job, token),
      download: (job) => downloadProcessor(ctx, opts, listings, job),
      finalize: (job) => finalizeProcessor(ctx, opts, job),
    },
    stages: { collect: 'collect', download: 'download', finalize: 'finalize' },
    concurrency: opts.concurrency,
    lockDurationMs: opts.lockDurationMs,
    stalledIntervalMs: opts.stalledIntervalMs,
  });
  await service.workers[0]?.waitUntilReady();
  return { ...service, name: 'export' };
}
