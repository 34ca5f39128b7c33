import type { RunningService, ServiceContext } from '@rfbatch/shared';
import { createStageWorker, startStageService, type ProcessorMap } from '@rfbatch/worker-kit';
import { collectProcessor } from './collect.processor.js';
import type { ExportDeps } from './deps.js';
import { downloadProcessor } from './download.processor.js';
import { finalizeProcessor } from './finalize.processor.js';
import { Listings } from './listings.js';
import { startNotifyWatcher } from './notify-watch.js';
import { resolveExportOptions, type ExportServiceOptions } from './options.js';

/** The handlers of the `export` queue, typed against the job catalog. */
const exportProcessors = {
  collect: collectProcessor,
  download: downloadProcessor,
  finalize: finalizeProcessor,
} satisfies ProcessorMap<'export', ExportDeps>;

/**
 * Starts the export service: one worker on the `export` queue for collect, download and finalize, and
 * the notifier that tells each run's notify URL how it ended (notify-watch.ts).
 */
export async function startExport(
  ctx: ServiceContext,
  options?: ExportServiceOptions,
): Promise<RunningService> {
  const opts = resolveExportOptions(options);
  const listings = new Listings(ctx.client, opts.urlCacheMs);
  const notifier = await startNotifyWatcher(ctx, opts);
  const service = await startStageService('export', [
    createStageWorker(ctx, {
      queue: 'export',
      processors: exportProcessors,
      deps: { ctx, options: opts, listings },
      concurrency: opts.concurrency,
      lockDurationMs: opts.lockDurationMs,
      stalledIntervalMs: opts.stalledIntervalMs,
      service: 'export',
    }),
  ]);
  return {
    ...service,
    async close() {
      await Promise.all([service.close(), notifier.close()]);
    },
  };
}
