import { exportService } from '@rfbatch/export';
import { gatewayService } from '@rfbatch/gateway';
import { ingestService } from '@rfbatch/ingest';
import { jobsService } from '@rfbatch/jobs';
import {
  prepareServices,
  startServices,
  type QueueName,
  type RunningService,
  type ServiceContext,
  type ServiceDefinition,
  type ServiceHost,
} from '@rfbatch/shared';
import type { App } from './app.js';
import { cliConfig, cliLogger, openServices } from './cli-context.js';

/** The worker services `rfbatch workers` can run (each with the queues it consumes). */
export const SERVICES = {
  ingest: ingestService,
  jobs: jobsService,
  export: exportService,
} as const satisfies Record<string, ServiceDefinition>;
export type ServiceName = keyof typeof SERVICES;
export const SERVICE_NAMES = Object.keys(SERVICES) as ServiceName[];

/** Every service process rfbatch has, workers and gateway: what docs/operators.md documents. */
export const ALL_SERVICES: readonly ServiceDefinition[] = [...Object.values(SERVICES), gatewayService];

export interface StartWorkersOptions {
  /** Which services to run. @defaultValue all */
  only?: readonly ServiceName[];
  /** Jobs at once per worker (each service's own default when absent). */
  concurrency?: number;
  /** The environment each service reads its own options from (RFBATCH_JOBS_POLL_MIN_MS, …). @defaultValue process.env */
  env?: Record<string, string | undefined>;
  /** Where the ingest service registers its reaction to 429s (the client reports them there). */
  rateLimitListeners?: Array<(retryAfterMs: number) => void>;
  /** Per-service options over the environment's (tests and the demo shorten poll intervals). */
  serviceOptions?: {
    ingest?: Parameters<typeof ingestService.start>[1];
    jobs?: Parameters<typeof jobsService.start>[1];
    export?: Parameters<typeof exportService.start>[1];
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

/**
 * Starts worker services inside a command that goes on doing its own work (`run`, `watch --local`,
 * the demo), over its service context. `rfbatch workers` runs them as a process instead (runServices).
 */
export async function startWorkers(
  ctx: ServiceContext,
  options: StartWorkersOptions = {},
): Promise<RunningWorkers> {
  const names = options.only?.length ? [...new Set(options.only)] : SERVICE_NAMES;
  const prepared = prepareServices(
    names.map((name) => SERVICES[name]),
    {
      env: options.env ?? process.env,
      ...(options.serviceOptions ? { overrides: options.serviceOptions } : {}),
      ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
    },
  );
  const running = await startServices(ctx, prepared, options.rateLimitListeners);
  return { services: running.services, names, close: running.close };
}

/**
 * `runServices` inside the CLI: its environment, configuration (the emulator key, the API key
 * required) and logger; Redis checked before anything starts; Ctrl-C/SIGTERM through `io.signal` (a second one exits 130 at once, see io.ts);
 * the exit code returned to the command, and errors before the start thrown to be reported like
 * any other (exit 3 for configuration).
 */
export function cliHost(app: App): ServiceHost {
  return {
    env: app.io.env,
    loadConfig: () => cliConfig(app.io, { needApiKey: true }),
    logger: cliLogger(app.io, app.verbose(), 'info'),
    openContext: openServices,
    stop: app.io.signal,
    exit: () => {},
    reject: (error) => {
      throw error;
    },
  };
}
