/**
 * Builds what every service needs from a Config: the Redis worker connection, the queues, the run
 * store, the Roboflow client and (when asked) the shared metrics. `closeServiceContext` closes exactly
 * what `createServiceContext` made.
 */
import type { Redis } from 'ioredis';
import { Agent, type Dispatcher } from 'undici';
import { closeQueues, createQueues } from './bullmq.js';
import type { Config } from './config.js';
import { ConfigError } from './errors.js';
import type { Logger } from './logger.js';
import { createRedisMetrics, MetricName, type Metrics } from './metrics.js';
import { workerConnection } from './redis.js';
import { RunStore } from './run-store.js';
import type { ServiceContext } from './service.js';
import { createRoboflowClient } from './roboflow/client.js';
import type { RoboflowClient, RoboflowClientOptions } from './roboflow/client.types.js';

export interface ServiceContextOverrides {
  /** Use this client instead of one made from `config.roboflow` (then no API key is needed). */
  client?: RoboflowClient;
  /** Use this Redis connection (the caller keeps ownership and closes it). */
  connection?: Redis;
  /** The undici dispatcher for the client made here (e.g. a MockAgent). @defaultValue a keep-alive Agent */
  dispatcher?: Dispatcher;
  /** Extra client options (metrics and rate-limit callbacks). */
  clientOptions?: Pick<RoboflowClientOptions, 'onRateLimited' | 'onRequest'>;
  /**
   * Record to the shared counters in Redis (`ctx.metrics`, read by the gateway's /metrics): every API
   * request and rate-limit wait of the client made here, every run that ends, and what the services
   * count. Flushed when the context closes. @defaultValue false
   */
  metrics?: boolean;
}

const closers = new WeakMap<ServiceContext, () => Promise<void>>();

/** The error for a process that must call the API but has no key. */
export function missingApiKeyError(): ConfigError {
  return new ConfigError([
    {
      path: 'ROBOFLOW_API_KEY',
      message:
        'required to call the Roboflow API: set it to the private API key of your workspace (Roboflow app → Settings → API Keys)',
    },
  ]);
}

export function createServiceContext(
  config: Config,
  logger: Logger,
  overrides: ServiceContextOverrides = {},
): ServiceContext {
  let client = overrides.client;
  let agent: Agent | undefined;
  // Made with the connection below; the client's callbacks only run once requests are made.
  let metrics: Metrics | undefined;
  const { onRequest, onRateLimited } = overrides.clientOptions ?? {};
  if (!client) {
    const apiKey = config.roboflow.apiKey;
    if (!apiKey) throw missingApiKeyError();
    agent = overrides.dispatcher
      ? undefined
      : new Agent({ keepAliveTimeout: 30_000, connect: { timeout: config.roboflow.connectTimeoutMs } });
    client = createRoboflowClient({
      apiUrl: config.roboflow.apiUrl,
      apiKey,
      ...(config.roboflow.workspace ? { workspace: config.roboflow.workspace } : {}),
      dispatcher: overrides.dispatcher ?? (agent as Agent),
      requestTimeoutMs: config.roboflow.requestTimeoutMs,
      connectTimeoutMs: config.roboflow.connectTimeoutMs,
      retry: config.roboflow.retry,
      rateLimitPerSecond: config.roboflow.rateLimitPerSecond,
      logger: logger.child({ component: 'roboflow' }),
      onRequest: (event) => {
        metrics?.inc(MetricName.apiRequests, { endpoint: event.endpoint, status: event.status });
        metrics?.observe(
          MetricName.apiRequestDuration,
          { endpoint: event.endpoint, status: event.status },
          event.durationMs / 1000,
        );
        onRequest?.(event);
      },
      onRateLimited: (retryAfterMs) => {
        metrics?.inc(MetricName.rateLimitWaits);
        onRateLimited?.(retryAfterMs);
      },
      // Where `rfbatch status`, the live display and GET /runs/:id read it (RunStore.get).
      onOutage: (outage) => void store.recordApiOutage(outage).catch(() => undefined),
    });
  }

  const connection = overrides.connection ?? workerConnection(config.redis);
  if (!overrides.connection) {
    // ioredis reconnects by itself; without a listener an outage would print unhandled-error noise.
    connection.on('error', (err: Error) => logger.warn({ err }, 'redis connection error'));
  }
  if (overrides.metrics) metrics = createRedisMetrics(connection, config.redis.prefix);
  const queues = createQueues(connection, config.redis.prefix);
  const store = new RunStore(connection, config.redis.prefix, {
    onEnded: (_runId, status) => metrics?.inc(MetricName.runs, { outcome: status }),
  });
  const ctx: ServiceContext = {
    config,
    logger,
    connection,
    queues,
    store,
    client,
    ...(metrics ? { metrics } : {}),
  };

  closers.set(ctx, async () => {
    await metrics?.close();
    await closeQueues(queues);
    if (!overrides.connection) await quit(connection);
    await agent?.close();
  });
  return ctx;
}

/** Closes the queues, and the connection and HTTP agent the context made itself. Safe to call twice. */
export async function closeServiceContext(ctx: ServiceContext): Promise<void> {
  const close = closers.get(ctx);
  closers.delete(ctx);
  await close?.();
}

/** QUIT, and wait until the connection has really ended (a stuck one is dropped after 2 s). */
async function quit(connection: Redis): Promise<void> {
  if (connection.status === 'end') return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => connection.disconnect(), 2_000);
    connection.once('end', () => {
      clearTimeout(timer);
      resolve();
    });
    connection.quit().catch(() => connection.disconnect());
  });
}
