import { z } from 'zod';
import { ConfigError, type FieldProblem } from './errors.js';
import { parseRoots, type AllowedRoots } from './allowed-roots.js';
import { bucketUrlProblem } from './bucket-url.js';
import { notifyAllowProblem, parseNotifyAllow } from './notify-target.js';
import { registerSecret } from './redact.js';

/** The environment a process reads (process.env, or a test's own record). */
export type EnvSource = Readonly<Record<string, string | undefined>>;

const int = (min: number) => z.coerce.number().int().min(min);

/** Colon-separated absolute folders (allowed-roots.ts). */
const rootsVariable = (what: string) =>
  z
    .string()
    .optional()
    .superRefine((text, ctx) => {
      try {
        parseRoots(text);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `${(error as Error).message} (${what})` });
      }
    });

/**
 * Every environment variable every process reads, in one schema (each service's own are in its
 * options schema, below). Parsed once per process by loadConfig. The metadata feeds the table in
 * docs/operators.md: `usedBy`, a `defaultText` where the default is not a plain value, and `secret`
 * for values never echoed.
 */
export const EnvSchema = z.object({
  ROBOFLOW_API_KEY: z.string().trim().min(1).optional().meta({
    description:
      'private API key of the workspace. Required for the real API; any value for a local emulator (the CLI sends one itself for a loopback URL). Never logged or stored',
    usedBy: 'workers, gateway, remote CLI',
    secret: true,
  }),
  ROBOFLOW_API_URL: z
    .url({ protocol: /^https?$/ })
    .default('https://api.roboflow.com')
    .meta({ description: 'API base URL (the emulator: `http://127.0.0.1:<port>`)', usedBy: 'all' }),
  ROBOFLOW_WORKSPACE: z
    .string()
    .trim()
    .min(1)
    .optional()
    .meta({ description: 'workspace slug', usedBy: 'all', defaultText: 'discovered from the key' }),
  REDIS_URL: z
    .url({ protocol: /^rediss?$/ })
    .default('redis://127.0.0.1:6379')
    .meta({ description: 'Redis (`rediss://` for TLS)', usedBy: 'all' }),
  RFBATCH_PREFIX: z
    .string()
    .regex(
      /^(\{[A-Za-z0-9_-]+\}|[A-Za-z0-9_-]+)$/,
      'letters, digits, _ and - only, optionally in {} for Redis Cluster',
    )
    .default('rfbatch')
    .meta({
      description: 'key prefix of queues and run state; `{name}` (hash tag) for Redis Cluster',
      usedBy: 'all',
    }),
  RFBATCH_REDIS_MODE: z.enum(['standalone', 'cluster', 'sentinel']).default('standalone').meta({
    description: '`cluster`: REDIS_URL is one Cluster node (prefix `{tagged}`); `sentinel`: a Sentinel',
    usedBy: 'all',
  }),
  RFBATCH_REDIS_SENTINEL_NAME: z.string().min(1).default('mymaster').meta({
    description: 'the master name the Sentinels watch (`sentinel monitor <name> …`)',
    usedBy: 'all',
  }),
  RFBATCH_REDIS_TLS_CA: z.string().min(1).optional().meta({
    description:
      'PEM file of the CA that signed the Redis server certificate (`rediss://`), for a private or self-signed CA',
    usedBy: 'all',
    defaultText: "Node's built-in CAs",
  }),
  RFBATCH_WORK_DIR: z.string().min(1).default('.rfbatch').meta({
    description: 'manifests and downloads of each run; shared storage when workers run on several hosts',
    usedBy: 'ingest, export',
  }),
  RFBATCH_WORK_URL: z
    .string()
    .superRefine((url, ctx) => {
      const problem = bucketUrlProblem(url, { allowGlob: false });
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional()
    .meta({
      description:
        'a bucket prefix (s3://, gs://, az://) that mirrors the work dir, so ingest, jobs and export processes on different hosts share only Redis and the bucket; each process keeps a local cache in RFBATCH_WORK_DIR',
      usedBy: 'ingest, jobs, export',
    }),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').meta({
    description: 'fatal, error, warn, info, debug, trace, silent',
    usedBy: 'all',
    defaultText: '`info` (services), `warn` (CLI)',
  }),
  // Read by the CLI's logger only (any other value means human lines); listed here to be documented.
  LOG_FORMAT: z.string().optional().meta({
    description: '`json` for pino JSON lines (the Docker image sets it)',
    usedBy: 'CLI commands (`workers`, `gateway`, …)',
    defaultText: 'human lines',
  }),
  RFBATCH_REQUEST_TIMEOUT_MS: int(100)
    .default(60_000)
    .meta({ description: 'per-request read timeout', usedBy: 'API client' }),
  RFBATCH_CONNECT_TIMEOUT_MS: int(100)
    .default(10_000)
    .meta({ description: 'connect timeout', usedBy: 'API client' }),
  RFBATCH_RETRY_MAX_ATTEMPTS: int(1).default(5).meta({
    description: 'attempts per request (408, 429, 502, 503, 504, resets, timeouts)',
    usedBy: 'API client',
  }),
  RFBATCH_RETRY_BASE_DELAY_MS: int(0).default(500).meta({
    description: 'first backoff, doubling with jitter (Retry-After wins)',
    usedBy: 'API client',
  }),
  RFBATCH_RETRY_DEADLINE_MS: int(100)
    .default(300_000)
    .meta({ description: 'no retry starts after this long', usedBy: 'API client' }),
  RFBATCH_API_RATE_LIMIT: z.coerce.number().min(0).default(0).meta({
    description: 'requests per second per process, across all API calls',
    usedBy: 'API client',
    defaultText: '`0` (none)',
  }),
  RFBATCH_METRICS_PORT: int(0).max(65_535).optional().meta({
    description:
      'serve `/metrics` and `/healthz` of this process (RSS, event-loop lag, active jobs) on this port (0 = any free one)',
    usedBy: 'workers, gateway',
    defaultText: 'none (not served)',
  }),
  RFBATCH_METRICS_HOST: z
    .string()
    .default('127.0.0.1')
    .meta({ description: 'bind address of `RFBATCH_METRICS_PORT`', usedBy: 'workers, gateway' }),
  RFBATCH_GATEWAY_HOST: z
    .string()
    .default('127.0.0.1')
    .meta({ description: 'bind address', usedBy: 'gateway' }),
  RFBATCH_GATEWAY_PORT: int(0)
    .default(8080)
    .meta({ description: 'port (0 = any free one)', usedBy: 'gateway' }),
  RFBATCH_GATEWAY_TOKEN: z.string().min(8).optional().meta({
    description: 'bearer token of the API, board and metrics; required beyond loopback (≥8 chars)',
    usedBy: 'gateway',
    secret: true,
  }),
  RFBATCH_GATEWAY_ADMIN_TOKEN: z.string().min(8).optional().meta({
    description: 'enables the writable board at `/admin/board` (≥8 chars)',
    usedBy: 'gateway',
    secret: true,
  }),
  RFBATCH_PUBLIC_URL: z.url().optional().meta({
    description: 'where Roboflow can reach the gateway; enables webhooks',
    usedBy: 'jobs, ingest, gateway',
  }),
  RFBATCH_WEBHOOK_SECRET: z.string().min(16).optional().meta({
    description: 'path secret of the webhook route (≥16 chars; required with `RFBATCH_PUBLIC_URL`)',
    usedBy: 'jobs, ingest, gateway',
    secret: true,
  }),
  RFBATCH_ALLOWED_ROOTS: rootsVariable('where runs may read sources and write outputs').meta({
    description:
      'colon-separated folders runs may read and write (checked at submit, and by the workers on real paths); required for a gateway beyond loopback',
    usedBy: 'all',
    defaultText: 'none (anywhere)',
  }),
  RFBATCH_SOURCE_ROOTS: rootsVariable('sources').meta({
    description: 'like `RFBATCH_ALLOWED_ROOTS`, for sources only (replaces it for sources)',
    usedBy: 'all',
    defaultText: '`RFBATCH_ALLOWED_ROOTS`',
  }),
  RFBATCH_OUTPUT_ROOTS: rootsVariable('outputs').meta({
    description: 'like `RFBATCH_ALLOWED_ROOTS`, for output folders only (replaces it for outputs)',
    usedBy: 'all',
    defaultText: '`RFBATCH_ALLOWED_ROOTS`',
  }),
  RFBATCH_NOTIFY_ALLOW: z
    .string()
    .optional()
    .superRefine((text, ctx) => {
      const problem = notifyAllowProblem(text ?? '');
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .meta({
      description:
        'loopback, link-local or private notify targets that are allowed anyway: hosts, `host:port`, addresses or CIDR ranges, comma-separated',
      usedBy: 'all',
      defaultText: 'none (public targets only)',
    }),
  RFBATCH_ALLOW_EVICTION: z.stringbool().default(false).meta({
    description:
      'start workers and the gateway even though Redis may evict keys (`maxmemory-policy` other than `noeviction`): runs can then be lost',
    usedBy: 'workers, gateway',
  }),
});
export type Env = z.input<typeof EnvSchema>;

export const ConfigSchema = EnvSchema.superRefine((env, ctx) => {
  if (env.RFBATCH_REDIS_MODE === 'cluster' && !/^\{.+\}$/.test(env.RFBATCH_PREFIX)) {
    ctx.addIssue({
      code: 'custom',
      path: ['RFBATCH_PREFIX'],
      message: `"${env.RFBATCH_PREFIX}" has no hash tag: on a Redis Cluster every key of a queue must be in one slot; use RFBATCH_PREFIX={${env.RFBATCH_PREFIX.replace(/[{}]/g, '')}}`,
    });
  }
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
  redis: {
    url: env.REDIS_URL,
    prefix: env.RFBATCH_PREFIX,
    allowEviction: env.RFBATCH_ALLOW_EVICTION,
    mode: env.RFBATCH_REDIS_MODE,
    sentinelName: env.RFBATCH_REDIS_SENTINEL_NAME,
    ...(env.RFBATCH_REDIS_TLS_CA ? { tlsCaFile: env.RFBATCH_REDIS_TLS_CA } : {}),
  },
  roots: {
    source: parseRoots(env.RFBATCH_SOURCE_ROOTS ?? env.RFBATCH_ALLOWED_ROOTS),
    output: parseRoots(env.RFBATCH_OUTPUT_ROOTS ?? env.RFBATCH_ALLOWED_ROOTS),
  } satisfies AllowedRoots,
  notify: { allow: parseNotifyAllow(env.RFBATCH_NOTIFY_ALLOW) },
  workDir: env.RFBATCH_WORK_DIR,
  workUrl: env.RFBATCH_WORK_URL,
  logLevel: env.LOG_LEVEL,
  metrics: { host: env.RFBATCH_METRICS_HOST, port: env.RFBATCH_METRICS_PORT },
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

const isSecret = (field: z.ZodType | undefined) => field?.meta()?.secret === true;

/**
 * Parses the environment once. Every bad variable is listed in one ConfigError; values of secret
 * variables are never echoed. Secrets are registered with the redactor before anything can log them.
 */
export function loadConfig(env: EnvSource = process.env): Config {
  const relevant: Record<string, string> = {};
  for (const key of Object.keys(EnvSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') relevant[key] = value;
  }
  const parsed = ConfigSchema.safeParse(relevant);
  if (!parsed.success) {
    const shape: Record<string, z.ZodType> = EnvSchema.shape;
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? '');
        const shown =
          isSecret(shape[name]) || relevant[name] === undefined ? '' : ` (got "${relevant[name]}")`;
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

// ---------------------------------------------------------------------------------------------
// Service options: one zod object per service. Each field carries its default (`.default`) and
// its description (`.describe`, or `.meta` with a `defaultText` where the service derives the
// default); its variable is RFBATCH_<SERVICE>_<FIELD>. Programmatic options are not validated
// (tests shorten every duration); values from the environment are.
// ---------------------------------------------------------------------------------------------

/** An environment variable rfbatch reads, as the table in docs/operators.md lists it. */
export interface EnvVariable {
  name: string;
  /** The default as operators read it: `30000`, `8 images / 2 videos`, `—`. */
  defaultText: string;
  /** The processes that read it: `all`, `ingest`, `API client`, … */
  usedBy: string;
  description: string;
  /** Older names still read, with a deprecation warning. */
  formerly: readonly string[];
}

/** A variable read under its old name: logged once at start-up, naming the new one. */
export interface Deprecation {
  variable: string;
  replacement: string;
  /** The new name is set too, so the old one's value is not used. */
  ignored: boolean;
}

export function describeDeprecation(d: Deprecation): string {
  return d.ignored
    ? `${d.variable} is deprecated and ignored: ${d.replacement} is set`
    : `${d.variable} is deprecated: use ${d.replacement}`;
}

/** A whole number from `min` (to `max`), read from the environment with a message that says so. */
export function wholeNumber(min: number, max?: number) {
  const error = `expected a whole number ${max === undefined ? `of at least ${min}` : `from ${min} to ${max}`}`;
  const field = z.coerce.number({ error }).int({ error }).min(min, { error });
  return max === undefined ? field : field.max(max, { error });
}

/** A number of at least `min` (fractions allowed). */
export function decimal(min: number) {
  const error = `expected a number of at least ${min}`;
  return z.coerce.number({ error }).min(min, { error });
}

/** true/false (also 1/0, yes/no, on/off). */
export function flag() {
  return z.stringbool({ error: 'expected true or false (or 1/0, yes/no, on/off)' });
}

/** `pollMinMs` → `POLL_MIN_MS`. */
function constantCase(field: string): string {
  return field.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

function defaultText(field: z.ZodType): string {
  const text = field.meta()?.defaultText;
  if (typeof text === 'string') return text;
  const parsed = field.safeParse(undefined);
  return parsed.success && parsed.data !== undefined ? `\`${String(parsed.data)}\`` : '—';
}

function describeField(name: string, field: z.ZodType, usedBy: string, formerly: readonly string[]) {
  const description = field.meta()?.description;
  // The docs table is generated from these: a field without a description is a bug, said at once.
  if (!description) throw new Error(`${name} has no description (add .describe(...) last)`);
  return { name, defaultText: defaultText(field), usedBy, description, formerly };
}

/** Every shared variable, in schema order, for docs/operators.md. */
export function configVariables(): EnvVariable[] {
  return Object.entries(EnvSchema.shape).map(([name, field]: [string, z.ZodType]) =>
    describeField(name, field, String(field.meta()?.usedBy ?? 'all'), []),
  );
}

function present(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

export interface ServiceOptionsSchema<S extends z.ZodObject> {
  /** `jobs`: its variables are `RFBATCH_JOBS_<FIELD>`. */
  readonly service: string;
  readonly schema: S;
  /** Every field's default (undefined where the service derives it from another field). */
  readonly defaults: z.output<S>;
  /** Its variables in field order, for docs/operators.md. */
  readonly variables: readonly EnvVariable[];
  /** `pollMinMs` → `RFBATCH_JOBS_POLL_MIN_MS`. */
  variable(field: keyof S['shape'] & string): string;
  /**
   * The fields the environment sets (unset and empty variables are left out). An old name is still
   * read, reported to `onDeprecated`; when both are set the new one wins. Every bad variable is
   * listed in one ConfigError with its value (never a secret's) and what was expected.
   */
  fromEnv(env?: EnvSource, onDeprecated?: (d: Deprecation) => void): Partial<z.output<S>>;
  /** `options` with every unset field at its default (only the schema's fields). */
  withDefaults(options: Partial<z.output<S>>): z.output<S>;
}

/** The options a service's start takes from this schema (each may be left out). */
export type OptionsOf<T extends ServiceOptionsSchema<z.ZodObject>> = Partial<z.output<T['schema']>>;

/**
 * Builds a service's options schema: defaults, descriptions and environment variables in one
 * place. `renamed` lists the old variable names still accepted for a field.
 */
export function serviceOptions<S extends z.ZodObject>(
  service: string,
  schema: S,
  renamed: { readonly [K in keyof S['shape']]?: readonly string[] } = {},
): ServiceOptionsSchema<S> {
  const fields = Object.entries(schema.shape as Record<string, z.ZodType>);
  const formerly = (field: string): readonly string[] =>
    (renamed as Record<string, readonly string[] | undefined>)[field] ?? [];
  const variable = (field: string) => `RFBATCH_${constantCase(service)}_${constantCase(field)}`;
  const defaults: Record<string, unknown> = {};
  for (const [field, type] of fields) {
    const parsed = type.safeParse(undefined);
    defaults[field] = parsed.success ? parsed.data : undefined;
  }
  return {
    service,
    schema,
    defaults: defaults as z.output<S>,
    variables: fields.map(([field, type]) => describeField(variable(field), type, service, formerly(field))),
    variable,
    fromEnv(env = process.env, onDeprecated) {
      const out: Record<string, unknown> = {};
      const problems: FieldProblem[] = [];
      for (const [field, type] of fields) {
        const name = variable(field);
        const old = formerly(field).find((n) => present(env[n]) !== undefined);
        const current = present(env[name]);
        if (old) onDeprecated?.({ variable: old, replacement: name, ignored: current !== undefined });
        const from = current !== undefined ? name : old;
        const raw = from === undefined ? undefined : present(env[from]);
        if (from === undefined || raw === undefined) continue;
        const parsed = type.safeParse(raw);
        if (parsed.success) {
          out[field] = parsed.data;
          continue;
        }
        const said = [...new Set(parsed.error.issues.map((i) => i.message))].join('; ');
        problems.push({ path: from, message: isSecret(type) ? said : `${said} (got "${raw}")` });
      }
      if (problems.length) throw new ConfigError(problems);
      return out as Partial<z.output<S>>;
    },
    withDefaults(options) {
      const given = options as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const [field] of fields) out[field] = given[field] ?? defaults[field];
      return out as z.output<S>;
    },
  };
}
