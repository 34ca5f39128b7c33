import { exportOptionsFromEnv, startExport } from '@rfbatch/export';
import { ingestOptionsFromEnv, ingestRateLimiter, startIngest } from '@rfbatch/ingest';
import { jobsOptionsFromEnv, startJobs } from '@rfbatch/jobs';
import { instrumentWorker, type QueueName, type RunningService, type ServiceContext } from '@rfbatch/shared';

/** The worker services `rfbatch workers` can run, and the queues each consumes. */
export const SERVICES = {
  ingest: { start: startIngest, fromEnv: ingestOptionsFromEnv, queues: ['runs', 'ingest'] },
  jobs: { start: startJobs, fromEnv: jobsOptionsFromEnv, queues: ['jobs'] },
  export: { start: startExport, fromEnv: exportOptionsFromEnv, queues: ['export'] },
} as const satisfies Record<string, { start: unknown; fromEnv: unknown; queues: readonly QueueName[] }>;
export type ServiceName = keyof typeof SERVICES;
export const SERVICE_NAMES = Object.keys(SERVICES) as ServiceName[];

export interface StartWorkersOptions {
  /** Which services to run. @defaultValue all */
  only?: readonly ServiceName[];
  /** Jobs at once per worker (each service's own default when absent). */
  concurrency?: number;
  /** The environment each service reads its own options from (RFBATCH_POLL_MIN_MS, …). @defaultValue process.env */
  env?: Record<string, string | undefined>;
  /** Where the ingest service registers its reaction to 429s (the client reports them there). */
  rateLimitListeners?: Array<(retryAfterMs: number) => void>;
  /** Per-service options over the environment's (tests and the demo shorten poll intervals). */
  serviceOptions?: {
    ingest?: Parameters<typeof startIngest>[1];
    jobs?: Parameters<typeof startJobs>[1];
    export?: Parameters<typeof startExport>[1];
  };
}

export interface RunningWorkers {
  services: RunningService[];
  names: ServiceName[];
  /** Stops taking work and waits for running jobs (each service's own close). */
  close(): Promise<void>;
}

/** The services that consume `queues` (to start only what a run is missing). */
export function servicesFor(queues: readonly QueueName[]): ServiceName[] {
  return SERVICE_NAMES.filter((name) => SERVICES[name].queues.some((q) => queues.includes(q)));
}

/** Starts the worker services in this process over one service context. */
export async function startWorkers(
  ctx: ServiceContext,
  options: StartWorkersOptions = {},
): Promise<RunningWorkers> {
  const names = options.only?.length ? [...new Set(options.only)] : SERVICE_NAMES;
  const concurrency = options.concurrency === undefined ? {} : { concurrency: options.concurrency };
  const services: RunningService[] = [];
  try {
    for (const name of names) {
      const fromEnv = SERVICES[name].fromEnv(options.env ?? process.env);
      const serviceOptions = { ...fromEnv, ...options.serviceOptions?.[name], ...concurrency };
      const service = await SERVICES[name].start(ctx, serviceOptions);
      // A 429 slows every ingest worker of this process (worker.rateLimit), not just one request.
      if (name === 'ingest') {
        const limiter = ingestRateLimiter();
        limiter.attach(ctx.queues);
        options.rateLimitListeners?.push(limiter.onRateLimited);
      }
      for (const worker of service.workers) if (ctx.metrics) instrumentWorker(ctx.metrics, worker);
      services.push(service);
    }
  } catch (error) {
    await Promise.allSettled(services.map((s) => s.close()));
    throw error;
  }
  ctx.logger.info({ services: names }, 'workers started');
  return {
    services,
    names,
    async close() {
      await Promise.all(services.map((s) => s.close()));
    },
  };
}
