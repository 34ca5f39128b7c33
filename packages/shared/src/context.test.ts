import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { loadConfig } from './config.js';
import { closeServiceContext, createServiceContext } from './context.js';
import { createLogger } from './logger.js';
import { readMetrics } from './metrics.js';
import { createRoboflowClient } from './roboflow/client.js';
import { json, startTestServer, type TestServer } from '@rfbatch/testkit/api-server';
import { cleanupPrefix, testPrefix, testRedisUrl } from '@rfbatch/testkit/redis';
import { resolveRunSpec, RunSpecSchema } from './run-spec.schema.js';

const prefix = testPrefix('ctx');
const logger = createLogger({ level: 'silent' });
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer((req, res) =>
    json(res, 200, req.path === '/' ? { workspace: 'found-ws' } : { count: 5 }),
  );
});
afterAll(async () => {
  await server.close();
  await cleanupPrefix(prefix);
});

const env = (extra: Record<string, string> = {}) => ({
  REDIS_URL: testRedisUrl(),
  RFBATCH_PREFIX: prefix,
  ROBOFLOW_API_URL: server.url,
  ...extra,
});

describe('createServiceContext', () => {
  it('refuses to start without ROBOFLOW_API_KEY, saying what to set', () => {
    const config = loadConfig(env());
    expect(() => createServiceContext(config, logger)).toThrow(ConfigError);
    expect(() => createServiceContext(config, logger)).toThrow(
      'invalid configuration:\n  ROBOFLOW_API_KEY: required to call the Roboflow API: set it to the private API key of your workspace (Roboflow app → Settings → API Keys)',
    );
  });

  it('wires Redis, queues, the run store and the client from the config, and closes them', async () => {
    const ctx = createServiceContext(loadConfig(env({ ROBOFLOW_API_KEY: 'ctx-key-123456' })), logger);
    try {
      // The client discovers the workspace (none configured) and talks to the configured URL.
      expect(await ctx.client.countBatch('b1')).toBe(5);
      expect(server.requests.map((r) => r.path)).toEqual([
        '/',
        '/data-staging/v1/external/found-ws/batches/b1/count',
      ]);
      expect(server.requests[0]?.query.get('api_key')).toBe('ctx-key-123456');

      const spec = resolveRunSpec(
        RunSpecSchema.parse({
          runId: 'ctx1',
          source: { kind: 'directory', path: '/d' },
          workflow: { workflowId: 'w' },
          output: { dir: '/o' },
        }),
      );
      expect(await ctx.store.create(spec)).toBe(true);
      await ctx.queues.runs.add('intake', { spec }, { jobId: 'intake-ctx1' });
      const keys = await ctx.connection.keys(`${prefix}:*`);
      expect(keys).toContain(`${prefix}:run:ctx1`);
      expect(keys.some((k) => k.startsWith(`${prefix}:runs:`))).toBe(true);
    } finally {
      await closeServiceContext(ctx);
    }
    expect(ctx.connection.status).toBe('end');
    await closeServiceContext(ctx); // a second close is harmless
  });

  it('takes an injected client (no key needed) and leaves an injected connection open', async () => {
    const { workerConnection } = await import('./redis.js');
    const connection = workerConnection(testRedisUrl());
    const client = createRoboflowClient({ apiUrl: server.url, apiKey: 'injected-key', workspace: 'w' });
    const ctx = createServiceContext(loadConfig(env()), logger, { client, connection });
    expect(ctx.client).toBe(client);
    await closeServiceContext(ctx);
    expect(await connection.ping()).toBe('PONG');
    connection.disconnect();
    await client.close();
  });

  it('with metrics: counts API requests and ended runs, and writes them to Redis when it closes', async () => {
    const config = loadConfig(env({ ROBOFLOW_API_KEY: 'ctx-key-123456', ROBOFLOW_WORKSPACE: 'ws' }));
    const ctx = createServiceContext(config, logger, { metrics: true });
    const spec = resolveRunSpec(
      RunSpecSchema.parse({
        runId: 'ctx2',
        source: { kind: 'directory', path: '/d' },
        workflow: { workflowId: 'w' },
        output: { dir: '/o' },
      }),
    );
    try {
      expect(ctx.metrics).toBeDefined();
      await ctx.client.countBatch('b2');
      await ctx.store.create(spec);
      await ctx.store.setStatus('ctx2', 'cancelled');
    } finally {
      await closeServiceContext(ctx);
    }
    const reader = new Redis(testRedisUrl());
    try {
      const samples = await readMetrics(reader, prefix);
      expect(samples).toContainEqual({ name: 'runs_total', labels: { outcome: 'cancelled' }, value: 1 });
      expect(samples).toContainEqual({
        name: 'api_requests_total',
        labels: { endpoint: 'GET /batches/{batchId}/count', status: '200' },
        value: 1,
      });
    } finally {
      reader.disconnect();
    }
  });
});
