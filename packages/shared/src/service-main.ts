/**
 * The one process entry of every rfbatch service. `rfbatch workers [--only …]` and `rfbatch gateway`
 * (what docker-compose and the Dockerfile run), each service's one-line `main.ts`, and the processes
 * the tests spawn all call `runServices`: read the configuration and every service's options once,
 * build one service context (with metrics), start, and run until SIGINT/SIGTERM under lifecycle.ts
 * (a close deadline; a second signal exits at once).
 */
import {
  describeDeprecation,
  loadConfig,
  type Config,
  type Deprecation,
  type EnvSource,
  type EnvVariable,
} from './config.js';
import { closeServiceContext, createServiceContext } from './context.js';
import { ConfigError, describeError, type FieldProblem } from './errors.js';
import { runUntilSignal } from './lifecycle.js';
import { startTracing, stopTracing, tracingSettings } from './telemetry/tracing.js';
import { requireNoEviction, requireRedisMode } from './redis-policy.js';
import { createLogger, type Logger } from './logger.js';
import { instrumentWorker } from './metrics.js';
import { serveProcessMetrics, type ProcessMetricsServer } from './metrics/process-server.js';
import type { QueueName } from './queues.js';
import type { RunningService, ServiceContext } from './service.js';

/** A started service; `url` for one that listens (the gateway). */
export interface StartedService extends RunningService {
  url?: string;
}

/** What a service says about itself to be run (each service exports one, e.g. `jobsService`). */
export interface ServiceDefinition<O extends object = object> {
  /** `ingest`, `jobs`, `export`, `gateway`: what `rfbatch workers --only` takes, and its logger's name. */
  readonly name: string;
  /** The queues its workers consume (none for the gateway). */
  readonly queues: readonly QueueName[];
  /** Its options schema (see `serviceOptions`): the variables it reads and how. */
  readonly options: {
    readonly variables: readonly EnvVariable[];
    fromEnv(env: EnvSource, onDeprecated?: (d: Deprecation) => void): O;
  };
  start(ctx: ServiceContext, options: O): Promise<StartedService>;
  /** Its reaction to the API asking to slow down (429 / Retry-After), e.g. pausing its queue. */
  onRateLimited?(ctx: ServiceContext): (retryAfterMs: number) => void;
}

/** Services with their options read, ready to start. */
export interface PreparedServices {
  services: Array<{ service: ServiceDefinition; options: object }>;
  /** Old variable names that were read, to log once at start-up. */
  deprecations: Deprecation[];
}

export interface PrepareServicesOptions {
  /** @defaultValue process.env */
  env?: EnvSource;
  /** Options over the environment's, by service name (tests and the demo shorten polls; `--port`). */
  overrides?: Readonly<Partial<Record<string, object>>>;
  /** Jobs at once for every one of them (`rfbatch workers --concurrency`). */
  concurrency?: number;
}

/**
 * Reads each service's options: its variables, then `overrides`, then `concurrency`. One
 * ConfigError lists every bad variable of them all.
 */
export function prepareServices(
  services: readonly ServiceDefinition[],
  options: PrepareServicesOptions = {},
): PreparedServices {
  const env = options.env ?? process.env;
  const problems: FieldProblem[] = [];
  const deprecations: Deprecation[] = [];
  const prepared: PreparedServices['services'] = [];
  for (const service of new Set(services)) {
    try {
      const fromEnv = service.options.fromEnv(env, (d) => deprecations.push(d));
      prepared.push({
        service,
        options: {
          ...fromEnv,
          ...options.overrides?.[service.name],
          ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
        },
      });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return { services: prepared, deprecations };
}

export interface RunningServices {
  names: string[];
  services: StartedService[];
  /** Stops taking work and waits for running jobs (every service's own close). */
  close(): Promise<void>;
}

/**
 * Starts prepared services on `ctx`, in order: old variable names are logged once, workers get
 * retry and duration metrics, rate-limit reactions go to `rateLimitListeners`. When one fails to
 * start, the ones already started are closed.
 */
export async function startServices(
  ctx: ServiceContext,
  prepared: PreparedServices,
  rateLimitListeners?: Array<(retryAfterMs: number) => void>,
): Promise<RunningServices> {
  for (const text of new Set(prepared.deprecations.map(describeDeprecation))) ctx.logger.warn(text);
  // Workers refuse an evicting Redis (the gateway checks in its own start).
  if (prepared.services.some((p) => p.service.queues.length > 0)) {
    await requireRedisMode(ctx.connection, ctx.config.redis);
    const { policy, ok } = await requireNoEviction(ctx.connection, ctx.config.redis.allowEviction);
    if (!ok) ctx.logger.warn({ policy }, 'Redis may evict keys (RFBATCH_ALLOW_EVICTION): runs can be lost');
  }
  const services: StartedService[] = [];
  try {
    for (const { service, options } of prepared.services) {
      const started = await service.start(ctx, options);
      if (service.onRateLimited) rateLimitListeners?.push(service.onRateLimited(ctx));
      for (const worker of started.workers) if (ctx.metrics) instrumentWorker(ctx.metrics, worker);
      services.push(started);
    }
  } catch (error) {
    await Promise.allSettled(services.map((s) => s.close()));
    throw error;
  }
  const names = prepared.services.map((p) => p.service.name);
  ctx.logger.info({ services: names }, 'services started');
  return {
    names,
    services,
    async close() {
      await Promise.all(services.map((s) => s.close()));
    },
  };
}

/** A service context with the client's 429 reports fanned out to what registers for them. */
export interface ServiceContextHandle {
  ctx: ServiceContext;
  rateLimitListeners: Array<(retryAfterMs: number) => void>;
  close(): Promise<void>;
}

function openServiceContext(config: Config, logger: Logger): ServiceContextHandle {
  const rateLimitListeners: ServiceContextHandle['rateLimitListeners'] = [];
  const ctx = createServiceContext(config, logger, {
    metrics: true,
    clientOptions: {
      onRateLimited: (retryAfterMs) => {
        for (const listener of rateLimitListeners) listener(retryAfterMs);
      },
    },
  });
  return { ctx, rateLimitListeners, close: () => closeServiceContext(ctx) };
}

/** Where `runServices` runs. Every field has the default of a bare process (a service's main.ts). */
export interface ServiceHost extends PrepareServicesOptions {
  /** Reads the configuration (the CLI adds its emulator key and API-key check). @defaultValue loadConfig */
  loadConfig?: (env: EnvSource) => Config;
  /** @defaultValue pino on stdout at config.logLevel, named after the services */
  logger?: Logger;
  /** Makes the service context (the CLI checks Redis first). @defaultValue one with metrics */
  openContext?: (config: Config, logger: Logger) => ServiceContextHandle | Promise<ServiceContextHandle>;
  /** Longest wait for the close after the stop. @defaultValue 30_000 */
  deadlineMs?: number;
  /** See RunUntilSignalOptions.stop. @defaultValue SIGINT/SIGTERM; a second one exits 1 at once */
  stop?: AbortSignal;
  /** Ends the process with the code. @defaultValue process.exit */
  exit?: (code: number) => void;
  /**
   * Takes what goes wrong before the services run (a bad variable, no API key, Redis away, a failed
   * start), to report it its own way. @defaultValue a bad configuration on stderr, a failed start in
   * the log; exit 1
   */
  reject?: (error: unknown) => never;
  /** Called once every service has started (the CLI prints where the gateway listens). */
  onStarted?: (running: RunningServices, ctx: ServiceContext) => void;
}

/**
 * Runs `services` in this process until it is stopped; resolves with the exit code (0 after a clean
 * close, 1 when the close failed or overran the deadline) once `host.exit` was called with it.
 */
export async function runServices(
  services: readonly ServiceDefinition[],
  host: ServiceHost = {},
): Promise<number> {
  const label = services.map((s) => s.name).join(', ');
  const exit = host.exit ?? ((code: number) => process.exit(code));
  const reject =
    host.reject ??
    ((error: unknown): never => {
      process.stderr.write(`rfbatch ${label}: ${describeError(error)}\n`);
      exit(1);
      throw error;
    });

  let ready: { config: Config; logger: Logger; handle: ServiceContextHandle; prepared: PreparedServices };
  try {
    // Every bad variable at once: the shared configuration's and every service's.
    const problems: FieldProblem[] = [];
    const collect = <T>(read: () => T): T | undefined => {
      try {
        return read();
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        problems.push(...error.problems);
        return undefined;
      }
    };
    const config = collect(() => (host.loadConfig ?? loadConfig)(host.env ?? process.env));
    const prepared = collect(() => prepareServices(services, host));
    collect(() => tracingSettings(host.env ?? process.env));
    if (!config || !prepared) throw new ConfigError(problems);
    const logger = host.logger ?? createLogger({ level: config.logLevel, name: label });
    // Before the context: its queues and the workers get BullMQ's telemetry while tracing is on.
    await startTracing(`rfbatch-${services.map((s) => s.name).join('-')}`, host.env ?? process.env);
    // Made here, not in start: a missing API key is a configuration error, said plainly.
    const handle = await (host.openContext ?? openServiceContext)(config, logger);
    ready = { config, logger, handle, prepared };
  } catch (error) {
    return reject(error);
  }

  const { config, logger, handle, prepared } = ready;
  return runUntilSignal(
    async () => {
      let running: RunningServices | undefined;
      let probe: ProcessMetricsServer | undefined;
      try {
        running = await startServices(handle.ctx, prepared, handle.rateLimitListeners);
        const { names, services: started } = running;
        if (config.metrics.port !== undefined)
          probe = await serveProcessMetrics({
            ...config.metrics,
            port: config.metrics.port,
            services: names,
            workers: () => started.flatMap((s) => s.workers),
            logger,
          });
        host.onStarted?.(running, handle.ctx);
      } catch (error) {
        await probe?.close();
        await running?.close();
        await handle.close();
        await stopTracing();
        throw error;
      }
      const started = running;
      const metricsServer = probe;
      return {
        async close() {
          await started.close();
          await metricsServer?.close();
          await handle.close();
          // The spans of the last jobs, sent before the process ends.
          await stopTracing();
        },
      };
    },
    {
      logger,
      deadlineMs: host.deadlineMs,
      stop: host.stop,
      exit,
      ...(host.reject ? { onStartError: host.reject } : {}),
    },
  );
}
