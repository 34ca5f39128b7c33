import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConfig, parseEnv } from './config.js';
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
    expect(config.redis).toEqual({ url: 'redis://127.0.0.1:6379', prefix: 'rfbatch' });
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
    expect(config.redis).toEqual({ url: 'rediss://redis.test:6380/2', prefix: '{rfb}' });
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

  it('requires the webhook secret with a public URL', () => {
    const error = configError({ RFBATCH_PUBLIC_URL: 'https://hooks.example.com' });
    expect(error.message).toBe(
      'invalid configuration:\n  RFBATCH_WEBHOOK_SECRET: required when RFBATCH_PUBLIC_URL is set (at least 16 characters)',
    );
  });
});

describe('parseEnv', () => {
  const Env = z.object({
    RFBATCH_X_CONCURRENCY: z.coerce.number().int().min(1).optional(),
    RFBATCH_X_MS: z.coerce.number().optional(),
  });

  it('reads only its own variables, leaving unset and empty ones out', () => {
    expect(parseEnv(Env, { RFBATCH_X_CONCURRENCY: '3', RFBATCH_X_MS: '', OTHER: 'x' })).toEqual({
      RFBATCH_X_CONCURRENCY: 3,
    });
  });

  it('lists every bad variable with its value in one ConfigError', () => {
    expect(() => parseEnv(Env, { RFBATCH_X_CONCURRENCY: '0', RFBATCH_X_MS: 'soon' })).toThrow(
      /RFBATCH_X_CONCURRENCY: .*\(got "0"\)\n {2}RFBATCH_X_MS: .*\(got "soon"\)/,
    );
  });
});
