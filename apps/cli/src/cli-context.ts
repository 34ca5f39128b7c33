import {
  HOW_TO_GET_REDIS,
  RunStore,
  closeQueues,
  closeServiceContext,
  createLogger,
  createQueues,
  createServiceContext,
  loadConfig,
  missingApiKeyError,
  noopMetrics,
  producerConnection,
  redactUrl,
  waitForRedis,
  type Config,
  type Logger,
  type Metrics,
  type Queues,
  type ServiceContext,
} from '@rfbatch/shared';
import type { Redis } from 'ioredis';
import { CliError, ExitCode } from './exit-codes.js';
import type { CliIO } from './io.js';
import { isLoopback } from '@rfbatch/shared';

/** The key sent to a local emulator when none is set: it accepts any non-empty key. */
const EMULATOR_API_KEY = 'rfbatch-local';

function isLocalApi(apiUrl: string): boolean {
  return isLoopback(new URL(apiUrl).hostname.replace(/^\[|\]$/g, ''));
}

/**
 * The configuration of one CLI invocation. A local emulator needs no key; the real API does, and a
 * command that will call it fails here, before anything is uploaded.
 */
export function cliConfig(io: CliIO, options: { needApiKey?: boolean } = {}): Config {
  const config = loadConfig(io.env);
  if (!config.roboflow.apiKey && isLocalApi(config.roboflow.apiUrl))
    config.roboflow.apiKey = EMULATOR_API_KEY;
  if (options.needApiKey && !config.roboflow.apiKey) {
    const error = missingApiKeyError();
    throw new CliError(
      ExitCode.config,
      `ROBOFLOW_API_KEY is not set, and ${redactUrl(config.roboflow.apiUrl).replace(/\/$/, '')} is not a local emulator`,
      error.problems[0]?.message.replace(/^required to call the Roboflow API: /, '') ?? undefined,
    );
  }
  return config;
}

const LEVEL_NAMES: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warning',
  50: 'error',
  60: 'fatal',
};
/** Fields of a log line worth showing to a person at a terminal. */
const SHOWN_FIELDS = ['runId', 'service', 'queue', 'job', 'url', 'signal'];

/** One pino JSON line as a short human line: `warning: <msg> (runId=…, …): <error>`. */
export function humanLogLine(line: string): string {
  try {
    const entry = JSON.parse(line) as Record<string, unknown>;
    const level = LEVEL_NAMES[Number(entry.level)] ?? 'log';
    const fields = SHOWN_FIELDS.filter((k) => entry[k] !== undefined).map((k) => `${k}=${String(entry[k])}`);
    const err = entry.err as { message?: unknown } | undefined;
    const error = typeof err?.message === 'string' ? `: ${err.message}` : '';
    return `${level}: ${String(entry.msg ?? '')}${fields.length ? ` (${fields.join(', ')})` : ''}${error}\n`;
  } catch {
    return line;
  }
}

/**
 * A logger on stderr (stdout stays for data): `defaultLevel` (warnings for commands that show their
 * own progress, info for long-running services) unless LOG_LEVEL or --verbose asks otherwise; short
 * human lines, or pino's JSON when LOG_FORMAT=json (for log collectors).
 */
export function cliLogger(io: CliIO, verbose: boolean, defaultLevel: 'warn' | 'info' = 'warn'): Logger {
  const level = verbose ? 'debug' : (io.env.LOG_LEVEL ?? defaultLevel);
  const json = io.env.LOG_FORMAT === 'json';
  return createLogger({
    level,
    name: 'rfbatch',
    destination: { write: (line: string) => void io.stderr.write(json ? line : humanLogLine(line)) },
  });
}

export interface StoreHandle {
  config: Config;
  redis: Redis;
  store: RunStore;
  queues: Queues;
  close(): Promise<void>;
}

function redisUnreachable(config: Config, cause: unknown): CliError {
  const error = new CliError(
    ExitCode.config,
    `Redis at ${redactUrl(config.redis.url)} is not reachable`,
    `start it, or ${HOW_TO_GET_REDIS}`,
  );
  error.cause = cause;
  return error;
}

/** Redis only (no API key needed): for submit, status, watch, ls. Fails fast when Redis is away. */
export async function openStore(config: Config): Promise<StoreHandle> {
  const redis = producerConnection(config.redis);
  // The first connection error ends the wait at once (a refused port should not take 3 s to report).
  const failed = new Promise<never>((_, reject) => redis.once('error', reject));
  failed.catch(() => {});
  redis.on('error', () => {});
  try {
    await Promise.race([waitForRedis(redis, config.redis.url, 3_000), failed]);
  } catch (error) {
    redis.disconnect();
    throw redisUnreachable(config, error);
  }
  const queues = createQueues(redis, config.redis.prefix);
  return {
    config,
    redis,
    store: new RunStore(redis, config.redis.prefix),
    queues,
    async close() {
      await closeQueues(queues);
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

export interface ServicesHandle {
  ctx: ServiceContext;
  metrics: Metrics;
  /** Called when the API asks to slow down (429 / Retry-After); workers add their queue's rate limit here. */
  rateLimitListeners: Array<(retryAfterMs: number) => void>;
  close(): Promise<void>;
}

/**
 * A full service context (Redis, queues, store, client) with the shared metrics: the client reports
 * every request and rate-limit wait, so /metrics sees what in-process workers do.
 */
export async function openServices(config: Config, logger: Logger): Promise<ServicesHandle> {
  const rateLimitListeners: Array<(retryAfterMs: number) => void> = [];
  const ctx = createServiceContext(config, logger, {
    metrics: true,
    clientOptions: {
      onRateLimited: (retryAfterMs) => {
        for (const listener of rateLimitListeners) listener(retryAfterMs);
      },
    },
  });
  try {
    await waitForRedis(ctx.connection, config.redis.url, 3_000);
  } catch (error) {
    await closeServiceContext(ctx);
    throw redisUnreachable(config, error);
  }
  return {
    ctx,
    metrics: ctx.metrics ?? noopMetrics,
    rateLimitListeners,
    close: () => closeServiceContext(ctx),
  };
}
