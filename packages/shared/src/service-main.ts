/**
 * The `main.ts` of every service process: read the configuration and the service's own options from
 * the environment, build the service context (with metrics), start, and run until SIGINT/SIGTERM.
 */
import type { Worker } from 'bullmq';
import { loadConfig } from './config.js';
import { closeServiceContext, createServiceContext, type ServiceContextOverrides } from './context.js';
import { describeError } from './errors.js';
import { runUntilSignal } from './lifecycle.js';
import { createLogger, type Logger } from './logger.js';
import { instrumentWorker } from './metrics.js';
import type { ServiceContext } from './service.js';

export interface ServiceMainOptions<O> {
  /** The service's name: its logger's name, and the prefix of a start-up error on stderr. */
  name: string;
  /** Reads the service's own options (a bad variable is reported like a bad configuration). */
  options: (env: NodeJS.ProcessEnv) => O;
  /** Starts the service; its `workers` (when it has any) get retry and duration metrics. */
  start: (ctx: ServiceContext, options: O) => Promise<{ workers?: Worker[]; close(): Promise<void> }>;
  /** Extra context settings (e.g. the ingest service's reaction to 429s). */
  context?: Omit<ServiceContextOverrides, 'metrics'>;
}

/**
 * Runs one service as its own process. A bad configuration is printed to stderr (exit 1) before
 * anything starts; a failed start is logged (exit 1); a signal closes the service, then the context.
 */
export async function serviceMain<O>(service: ServiceMainOptions<O>): Promise<void> {
  let prepared: { logger: Logger; ctx: ServiceContext; options: O };
  try {
    const config = loadConfig();
    const options = service.options(process.env);
    const logger = createLogger({ level: config.logLevel, name: service.name });
    // Made here, not in start: a missing API key is a configuration error, said plainly on stderr.
    const ctx = createServiceContext(config, logger, { ...service.context, metrics: true });
    prepared = { logger, ctx, options };
  } catch (error) {
    process.stderr.write(`rfbatch ${service.name}: ${describeError(error)}\n`);
    process.exit(1);
  }
  const { logger, ctx, options } = prepared;
  await runUntilSignal(
    async () => {
      let running: Awaited<ReturnType<typeof service.start>>;
      try {
        running = await service.start(ctx, options);
      } catch (error) {
        await closeServiceContext(ctx);
        throw error;
      }
      for (const worker of running.workers ?? []) if (ctx.metrics) instrumentWorker(ctx.metrics, worker);
      return {
        async close() {
          await running.close();
          await closeServiceContext(ctx);
        },
      };
    },
    { logger },
  );
}
