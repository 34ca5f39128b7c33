import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  EnvSchema,
  configVariables,
  decimal,
  describeDeprecation,
  flag,
  loadConfig,
  serviceOptions,
  wholeNumber,
  type Deprecation,
} from './config.js';
import { ConfigError } from './errors.js';
import { redactText } from './redact.js';

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('loadConfig accepted a bad environment');
}

describe('loadConfig', () => {
  it('fills the defaults from an empty environment', () => {
    const config = loadConfig({});
    expect(config.roboflow).toEqual({
      apiKey: undefined,
      apiUrl: 'https://api.roboflow.com',
      workspace: undefined,
      requestTimeoutMs: 60_000,
      connectTimeoutMs: 10_000,
      retry: { maxAttempts: 5, baseDelayMs: 500, deadlineMs: 300_000 },
      rateLimitPerSecond: 0,
    });
    expect(config.redis).toEqual({
      url: 'redis://127.0.0.1:6379',
      prefix: 'rfbatch',
      allowEviction: false,
      mode: 'standalone',
      sentinelName: 'mymaster',
    });
    expect(config.roots).toEqual({ source: [], output: [] });
    expect(config.notify.allow.entries).toEqual([]);
    expect(config.workDir).toBe('.rfbatch');
    expect(config.logLevel).toBe('info');
  });

  it('reads and coerces every variable; empty strings count as unset', () => {
    const config = loadConfig({
      ROBOFLOW_API_KEY: ' cfg-key-abcdef ',
      ROBOFLOW_API_URL: 'http://127.0.0.1:9000/',
      ROBOFLOW_WORKSPACE: 'acme',
      REDIS_URL: 'rediss://redis.test:6380/2',
      RFBATCH_PREFIX: '{rfb}',
      RFBATCH_REDIS_MODE: 'cluster',
      RFBATCH_REDIS_TLS_CA: '/etc/rfbatch/redis-ca.pem',
      RFBATCH_WORK_DIR: '/var/lib/rfbatch',
      LOG_LEVEL: 'debug',
      RFBATCH_REQUEST_TIMEOUT_MS: '5000',
      RFBATCH_RETRY_MAX_ATTEMPTS: '2',
      RFBATCH_GATEWAY_PORT: '0',
      RFBATCH_PUBLIC_URL: 'https://rfbatch.example.com/',
      RFBATCH_WEBHOOK_SECRET: 'a-webhook-secret-of-length',
      RFBATCH_GATEWAY_TOKEN: '',
    });
    expect(config.roboflow.apiKey).toBe('cfg-key-abcdef');
    expect(config.roboflow.apiUrl).toBe('http://127.0.0.1:9000');
    expect(config.roboflow.workspace).toBe('acme');
    expect(config.roboflow.requestTimeoutMs).toBe(5000);
    expect(config.roboflow.retry.maxAttempts).toBe(2);
    expect(config.redis).toEqual({
      url: 'rediss://redis.test:6380/2',
      prefix: '{rfb}',
      allowEviction: false,
      mode: 'cluster',
      sentinelName: 'mymaster',
      tlsCaFile: '/etc/rfbatch/redis-ca.pem',
    });
    expect(config.gateway.port).toBe(0);
    expect(config.gateway.publicUrl).toBe('https://rfbatch.example.com');
    expect(config.gateway.token).toBeUndefined();
    // The key is registered with the redactor as soon as it is loaded.
    expect(redactText('key is cfg-key-abcdef')).toBe('key is <redacted>');
  });

  it('lists every bad variable at once, with the value it got', () => {
    const error = configError({
      ROBOFLOW_API_URL: 'ftp://api.test',
      REDIS_URL: 'http://redis.test',
      RFBATCH_PREFIX: 'has:colon',
      LOG_LEVEL: 'loud',
      RFBATCH_REQUEST_TIMEOUT_MS: 'soon',
      RFBATCH_RETRY_MAX_ATTEMPTS: '0',
    });
    expect(error.problems.map((p) => p.path)).toEqual([
      'ROBOFLOW_API_URL',
      'REDIS_URL',
      'RFBATCH_PREFIX',
      'LOG_LEVEL',
      'RFBATCH_REQUEST_TIMEOUT_MS',
      'RFBATCH_RETRY_MAX_ATTEMPTS',
    ]);
    expect(error.message).toContain(
      'RFBATCH_PREFIX: letters, digits, _ and - only, optionally in {} for Redis Cluster (got "has:colon")',
    );
    expect(error.message).toContain('LOG_LEVEL: ');
    expect(error.message).toContain('(got "loud")');
    expect(error.message).toContain('(got "ftp://api.test")');
    expect(error.retryable).toBe(false);
  });

  it('never echoes a secret variable, even when it is the bad one', () => {
    const error = configError({
      RFBATCH_GATEWAY_TOKEN: 'short',
      RFBATCH_WEBHOOK_SECRET: 'tooshort-secret',
      RFBATCH_GATEWAY_ADMIN_TOKEN: 'adm',
    });
    expect(error.problems.map((p) => p.path).sort()).toEqual([
      'RFBATCH_GATEWAY_ADMIN_TOKEN',
      'RFBATCH_GATEWAY_TOKEN',
      'RFBATCH_WEBHOOK_SECRET',
    ]);
    const shown = `${error.message}\n${error.describe()}\n${JSON.stringify(error)}`;
    for (const secret of ['short', 'tooshort-secret', '"adm"']) expect(shown).not.toContain(secret);
  });

  it('reads allowed roots (one per kind replaces the shared one) and the notify allow-list; bad entries are named', () => {
    const config = loadConfig({
      RFBATCH_ALLOWED_ROOTS: '/data:/srv/in/',
      RFBATCH_OUTPUT_ROOTS: '/results',
      RFBATCH_NOTIFY_ALLOW: '10.0.0.0/8, hooks.internal:8443',
      RFBATCH_ALLOW_EVICTION: 'true',
    });
    expect(config.roots).toEqual({ source: ['/data', '/srv/in'], output: ['/results'] });
    expect(config.notify.allow.entries).toHaveLength(2);
    expect(config.redis.allowEviction).toBe(true);
    expect(() => loadConfig({ RFBATCH_ALLOWED_ROOTS: 'data', RFBATCH_NOTIFY_ALLOW: '10.0.0.0/99' })).toThrow(
      /RFBATCH_ALLOWED_ROOTS: "data" is not an absolute folder.*RFBATCH_NOTIFY_ALLOW: "10.0.0.0\/99" is not a CIDR range/s,
    );
  });

  it('requires the webhook secret with a public URL', () => {
    const error = configError({ RFBATCH_PUBLIC_URL: 'https://hooks.example.com' });
    expect(error.message).toBe(
      'invalid configuration:\n  RFBATCH_WEBHOOK_SECRET: required when RFBATCH_PUBLIC_URL is set (at least 16 characters)',
    );
  });
});

describe('serviceOptions', () => {
  const X = serviceOptions(
    'x',
    z.object({
      concurrency: wholeNumber(1, 64).default(4).describe('jobs at once'),
      pollMinMs: wholeNumber(0).default(1_000).describe('first wait'),
      stalledIntervalMs: wholeNumber(1_000)
        .optional()
        .meta({ description: 'stall check', defaultText: 'the lock duration' }),
      maxRatio: decimal(1).default(200).describe('ratio'),
      board: flag().default(true).describe('serve the board'),
      token: z.string().min(8).optional().meta({ description: 'a token', secret: true }),
    }),
    { pollMinMs: ['RFBATCH_POLL_MIN_MS'] },
  );

  it('names each variable RFBATCH_<SERVICE>_<FIELD> and takes every default from the schema', () => {
    expect(X.variable('pollMinMs')).toBe('RFBATCH_X_POLL_MIN_MS');
    expect(X.defaults).toEqual({
      concurrency: 4,
      pollMinMs: 1_000,
      stalledIntervalMs: undefined,
      maxRatio: 200,
      board: true,
      token: undefined,
    });
    expect(X.withDefaults({ concurrency: 2, pollMinMs: undefined })).toEqual({
      ...X.defaults,
      concurrency: 2,
    });
  });

  it('reads only its own variables, leaving unset and empty ones out', () => {
    expect(X.fromEnv({ RFBATCH_X_CONCURRENCY: '3', RFBATCH_X_MAX_RATIO: '', OTHER: 'x' })).toEqual({
      concurrency: 3,
    });
    expect(X.fromEnv({ RFBATCH_X_BOARD: 'false', RFBATCH_X_MAX_RATIO: '2.5' })).toEqual({
      board: false,
      maxRatio: 2.5,
    });
  });

  it('still reads an old name, reporting it; the new name wins when both are set', () => {
    const seen: Deprecation[] = [];
    expect(X.fromEnv({ RFBATCH_POLL_MIN_MS: '200' }, (d) => seen.push(d))).toEqual({ pollMinMs: 200 });
    expect(
      X.fromEnv({ RFBATCH_POLL_MIN_MS: 'x', RFBATCH_X_POLL_MIN_MS: '300' }, (d) => seen.push(d)),
    ).toEqual({
      pollMinMs: 300,
    });
    expect(seen.map(describeDeprecation)).toEqual([
      'RFBATCH_POLL_MIN_MS is deprecated: use RFBATCH_X_POLL_MIN_MS',
      'RFBATCH_POLL_MIN_MS is deprecated and ignored: RFBATCH_X_POLL_MIN_MS is set',
    ]);
  });

  it('lists every bad variable in one ConfigError: its name, its value and what it expects', () => {
    let error: unknown;
    try {
      X.fromEnv({
        RFBATCH_X_CONCURRENCY: '0',
        RFBATCH_POLL_MIN_MS: 'soon',
        RFBATCH_X_STALLED_INTERVAL_MS: '1.5',
        RFBATCH_X_BOARD: 'maybe',
        RFBATCH_X_TOKEN: 'short',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toBe(
      [
        'invalid configuration:',
        '  RFBATCH_X_CONCURRENCY: expected a whole number from 1 to 64 (got "0")',
        '  RFBATCH_POLL_MIN_MS: expected a whole number of at least 0 (got "soon")',
        '  RFBATCH_X_STALLED_INTERVAL_MS: expected a whole number of at least 1000 (got "1.5")',
        '  RFBATCH_X_BOARD: expected true or false (or 1/0, yes/no, on/off) (got "maybe")',
        '  RFBATCH_X_TOKEN: Too small: expected string to have >=8 characters',
      ].join('\n'),
    );
  });

  it('describes its variables for docs/operators.md', () => {
    expect(X.variables.map((v) => [v.name, v.defaultText, v.usedBy, v.formerly])).toEqual([
      ['RFBATCH_X_CONCURRENCY', '`4`', 'x', []],
      ['RFBATCH_X_POLL_MIN_MS', '`1000`', 'x', ['RFBATCH_POLL_MIN_MS']],
      ['RFBATCH_X_STALLED_INTERVAL_MS', 'the lock duration', 'x', []],
      ['RFBATCH_X_MAX_RATIO', '`200`', 'x', []],
      ['RFBATCH_X_BOARD', '`true`', 'x', []],
      ['RFBATCH_X_TOKEN', '—', 'x', []],
    ]);
    expect(() => serviceOptions('y', z.object({ n: wholeNumber(0).default(1) }))).toThrow(
      'RFBATCH_Y_N has no description',
    );
  });

  it('describes every shared variable too', () => {
    const names = configVariables().map((v) => v.name);
    expect(names).toEqual(Object.keys(EnvSchema.shape));
    expect(configVariables().find((v) => v.name === 'RFBATCH_GATEWAY_PORT')).toMatchObject({
      defaultText: '`8080`',
      usedBy: 'gateway',
    });
  });
});
