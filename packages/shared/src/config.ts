import { z } from 'zod';
import { ConfigError } from './errors.js';
import { registerSecret } from './redact.js';

const int = (min: number) => z.coerce.number().int().min(min);

/** Every environment variable rfbatch reads, in one schema. Parsed once per process by loadConfig. */
export const EnvSchema = z.object({
  ROBOFLOW_API_KEY: z.string().trim().min(1).optional(),
  ROBOFLOW_API_URL: z.url({ protocol: /^https?$/ }).default('https://api.roboflow.com'),
  ROBOFLOW_WORKSPACE: z.string().trim().min(1).optional(),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).default('redis://127.0.0.1:6379'),
  RFBATCH_PREFIX: z
    .string()
    .regex(
      /^(\{[A-Za-z0-9_-]+\}|[A-Za-z0-9_-]+)$/,
      'letters, digits, _ and - only, optionally in {} for Redis Cluster',
    )
    .default('rfbatch'),
  RFBATCH_WORK_DIR: z.string().min(1).default('.rfbatch'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  RFBATCH_REQUEST_TIMEOUT_MS: int(100).default(60_000),
  RFBATCH_CONNECT_TIMEOUT_MS: int(100).default(10_000),
  RFBATCH_RETRY_MAX_ATTEMPTS: int(1).default(5),
  RFBATCH_RETRY_BASE_DELAY_MS: int(0).default(500),
  RFBATCH_RETRY_DEADLINE_MS: int(100).default(300_000),
  /** Requests per second across all API calls of one process (0 = unlimited). */
  RFBATCH_API_RATE_LIMIT: z.coerce.number().min(0).default(0),
  RFBATCH_GATEWAY_HOST: z.string().default('127.0.0.1'),
  RFBATCH_GATEWAY_PORT: int(0).default(8080),
  RFBATCH_GATEWAY_TOKEN: z.string().min(8).optional(),
  RFBATCH_GATEWAY_ADMIN_TOKEN: z.string().min(8).optional(),
  /** Public base URL where Roboflow can reach the gateway; enables webhooks when set. */
  RFBATCH_PUBLIC_URL: z.url().optional(),
  /** Path secret of the webhook route; required with RFBATCH_PUBLIC_URL. */
  RFBATCH_WEBHOOK_SECRET: z.string().min(16).optional(),
});
export type Env = z.input<typeof EnvSchema>;

export const ConfigSchema = EnvSchema.superRefine((env, ctx) => {
  if (env.RFBATCH_PUBLIC_URL && !env.RFBATCH_WEBHOOK_SECRET) {
    ctx.addIssue({
      code: 'custom',
      path: ['RFBATCH_WEBHOOK_SECRET'],
      message: 'required when RFBATCH_PUBLIC_URL is set (at least 16 characters)',
    });
  }
}).transform((env) => ({
  roboflow: {
    apiKey: env.ROBOFLOW_API_KEY,
    apiUrl: env.ROBOFLOW_API_URL.replace(/\/+$/, ''),
    workspace: env.ROBOFLOW_WORKSPACE,
    requestTimeoutMs: env.RFBATCH_REQUEST_TIMEOUT_MS,
    connectTimeoutMs: env.RFBATCH_CONNECT_TIMEOUT_MS,
    retry: {
      maxAttempts: env.RFBATCH_RETRY_MAX_ATTEMPTS,
      baseDelayMs: env.RFBATCH_RETRY_BASE_DELAY_MS,
      deadlineMs: env.RFBATCH_RETRY_DEADLINE_MS,
    },
    rateLimitPerSecond: env.RFBATCH_API_RATE_LIMIT,
  },
  redis: { url: env.REDIS_URL, prefix: env.RFBATCH_PREFIX },
  workDir: env.RFBATCH_WORK_DIR,
  logLevel: env.LOG_LEVEL,
  gateway: {
    host: env.RFBATCH_GATEWAY_HOST,
    port: env.RFBATCH_GATEWAY_PORT,
    token: env.RFBATCH_GATEWAY_TOKEN,
    adminToken: env.RFBATCH_GATEWAY_ADMIN_TOKEN,
    publicUrl: env.RFBATCH_PUBLIC_URL?.replace(/\/+$/, ''),
    webhookSecret: env.RFBATCH_WEBHOOK_SECRET,
  },
}));
export type Config = z.output<typeof ConfigSchema>;

const SECRET_VARS = new Set([
  'ROBOFLOW_API_KEY',
  'RFBATCH_GATEWAY_TOKEN',
  'RFBATCH_GATEWAY_ADMIN_TOKEN',
  'RFBATCH_WEBHOOK_SECRET',
]);

/**
 * Parses the environment once. Every bad variable is listed in one ConfigError; values of secret
 * variables are never echoed. Secrets are registered with the redactor before anything can log them.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const relevant: Record<string, string> = {};
  for (const key of Object.keys(EnvSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') relevant[key] = value;
  }
  const parsed = ConfigSchema.safeParse(relevant);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? '');
        const shown =
          SECRET_VARS.has(name) || relevant[name] === undefined ? '' : ` (got "${relevant[name]}")`;
        return { path: name, message: `${issue.message}${shown}` };
      }),
    );
  }
  const config = parsed.data;
  registerSecret(config.roboflow.apiKey);
  registerSecret(config.gateway.token);
  registerSecret(config.gateway.adminToken);
  registerSecret(config.gateway.webhookSecret);
  return config;
}

/**
 * Parses a service's own environment variables (the keys of `schema`; unset and empty ones are left
 * out, so every field may be optional). Every bad variable is listed in one ConfigError, with its value.
 */
export function parseEnv<S extends z.ZodObject>(
  schema: S,
  env: Record<string, string | undefined>,
): z.output<S> {
  const present = Object.fromEntries(Object.keys(schema.shape).flatMap((k) => (env[k] ? [[k, env[k]]] : [])));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? '');
        return {
          path: name,
          message: `${issue.message}${present[name] === undefined ? '' : ` (got "${present[name]}")`}`,
        };
      }),
    );
  }
  return parsed.data;
}
