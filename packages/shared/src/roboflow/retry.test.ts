import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, ErrorCode, TimeoutError } from '../errors.js';
import { createRoboflowClient, type ClosableRoboflowClient } from './client.js';
import { ROBOFLOW_API_DEFAULTS } from './defaults.js';
import { backoffDelayMs, withRetry } from './retry.js';
import { json, startTestServer, type TestServer } from '@rfbatch/testkit/api-server';
import { captureLogger } from '@rfbatch/testkit/log-capture';
import { secretFreeRejection } from '@rfbatch/testkit/secret-checks';

const KEY = 'rf-retry-KEY-0a1b2c3d4e';
let server: TestServer;
const capture = captureLogger();
const clients: ClosableRoboflowClient[] = [];

interface Recorder {
  client: ClosableRoboflowClient;
  sleeps: number[];
  rateLimits: number[];
  statuses: number[];
}

/** A client whose waits are recorded instead of slept (unless `realSleep`). */
function recorder(
  retry: { maxAttempts?: number; baseDelayMs?: number; deadlineMs?: number } = {},
  realSleep = false,
): Recorder {
  const r: Omit<Recorder, 'client'> = { sleeps: [], rateLimits: [], statuses: [] };
  const client = createRoboflowClient({
    apiUrl: server.url,
    apiKey: KEY,
    workspace: 'acme',
    logger: capture.logger,
    requestTimeoutMs: 2_000,
    retry: { maxAttempts: 4, baseDelayMs: 10, deadlineMs: 60_000, ...retry },
    onRateLimited: (ms) => r.rateLimits.push(ms),
    onRequest: (e) => r.statuses.push(e.status),
    ...(realSleep
      ? {}
      : {
          sleep: async (ms: number) => {
            r.sleeps.push(ms);
          },
        }),
  });
  clients.push(client);
  return { client, ...r };
}

/** Answers the scripted responses in order, then 200 `{count: 7}`. */
function script(...steps: ((res: Parameters<Parameters<TestServer['handle']>[0]>[1]) => void)[]): void {
  let i = 0;
  server.handle((_req, res) => {
    const step = steps[i++];
    if (step) step(res);
    else json(res, 200, { count: 7 });
  });
}

const failure = (promise: Promise<unknown>) => secretFreeRejection(promise, [KEY]);

beforeAll(async () => {
  server = await startTestServer();
});
afterEach(() => {
  server.requests.length = 0;
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await server.close();
  const logs = capture.lines.join('\n');
  expect(logs).toContain('retrying');
  expect(logs).not.toContain(KEY);
});

describe('retries through the client', () => {
  it('429 with Retry-After: 2 waits 2 s, tells onRateLimited, then succeeds', async () => {
    const r = recorder();
    script((res) => json(res, 429, { error: 'slow down' }, { 'retry-after': '2' }));
    expect(await r.client.countBatch('b1')).toBe(7);
    expect(r.sleeps).toEqual([2000]);
    expect(r.rateLimits).toEqual([2000]);
    expect(r.statuses).toEqual([429, 200]);
  });

  it('429 with an HTTP-date Retry-After waits until that date', async () => {
    const r = recorder();
    const at = new Date(Date.now() + 3_000).toUTCString();
    script((res) => json(res, 429, { error: 'slow down' }, { 'retry-after': at }));
    expect(await r.client.countBatch('b1')).toBe(7);
    expect(r.sleeps).toHaveLength(1);
    // HTTP dates have whole seconds: the wait is in (1 s, 3 s].
    expect(r.sleeps[0]).toBeGreaterThan(1_000);
    expect(r.sleeps[0]).toBeLessThanOrEqual(3_000);
    expect(r.rateLimits).toEqual(r.sleeps);
  });

  it('429 without Retry-After backs off and still reports the rate limit', async () => {
    const r = recorder({ baseDelayMs: 100 });
    script((res) => json(res, 429, {}));
    expect(await r.client.countBatch('b1')).toBe(7);
    expect(r.sleeps).toHaveLength(1);
    expect(r.sleeps[0]).toBeLessThan(100);
    expect(r.rateLimits).toEqual(r.sleeps);
  });

  it('503 then 200 (real, short backoff)', async () => {
    const r = recorder({ baseDelayMs: 5 }, true);
    script((res) => json(res, 503, { error: 'unavailable' }));
    expect(await r.client.countBatch('b1')).toBe(7);
    expect(r.statuses).toEqual([503, 200]);
  });

  it('408, 502 and 504 are retried too', async () => {
    const r = recorder({ maxAttempts: 5 });
    script(
      (res) => json(res, 408, {}),
      (res) => {
        res.writeHead(502, { 'content-type': 'text/html' });
        res.end('<html><title>502 Bad Gateway</title></html>');
      },
      (res) => json(res, 504, {}),
    );
    expect(await r.client.countBatch('b1')).toBe(7);
    expect(r.statuses).toEqual([408, 502, 504, 200]);
  });

  it('a connection reset, then 200', async () => {
    const r = recorder();
    script((res) => res.socket?.destroy());
    expect(await r.client.countBatch('b1')).toBe(7);
    expect(r.statuses).toEqual([0, 200]);
    expect(r.sleeps).toHaveLength(1);
  });

  it('a request timeout, then 200', async () => {
    const r = recorder();
    const quick = createRoboflowClient({
      apiUrl: server.url,
      apiKey: KEY,
      workspace: 'acme',
      logger: capture.logger,
      requestTimeoutMs: 100,
      retry: { maxAttempts: 3, baseDelayMs: 1 },
      onRequest: (e) => r.statuses.push(e.status),
    });
    clients.push(quick);
    script(() => {}); // the first request never gets an answer
    expect(await quick.countBatch('b1')).toBe(7);
    expect(r.statuses).toEqual([0, 200]);
  });

  it('stops after maxAttempts with the last error', async () => {
    const r = recorder({ maxAttempts: 3 });
    server.handle((_req, res) => json(res, 503, { error: 'still down' }));
    const error = await failure(r.client.countBatch('b1'));
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(503);
    expect(error.retryable).toBe(true);
    expect(error.message).toBe(
      'GET /data-staging/v1/external/acme/batches/b1/count answered 503: still down',
    );
    expect(server.requests).toHaveLength(3);
  });

  it('a Retry-After beyond the deadline ends at once in a TimeoutError', async () => {
    const r = recorder({ deadlineMs: 10_000 });
    server.handle((_req, res) => json(res, 429, { error: 'credits exhausted' }, { 'retry-after': '3600' }));
    const error = await failure(r.client.countBatch('b1'));
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.code).toBe(ErrorCode.timeout);
    expect(error.retryable).toBe(true);
    expect((error as TimeoutError).retryAfterMs).toBe(3_600_000);
    expect(error.message).toBe(
      'GET /data-staging/v1/external/acme/batches/b1/count did not succeed within the retry deadline of 10 s ' +
        '(1 attempt; last: GET /data-staging/v1/external/acme/batches/b1/count answered 429: credits exhausted; the server asked to wait 3600 s)',
    );
    expect(r.rateLimits).toEqual([3_600_000]);
    expect(r.sleeps).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  it('an API that stays down past the deadline ends in a TimeoutError (real waits)', async () => {
    const r = recorder({ maxAttempts: 1_000, baseDelayMs: 20, deadlineMs: 150 }, true);
    server.handle((_req, res) => json(res, 503, {}));
    const error = await failure(r.client.countBatch('b1'));
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.cause).toBeInstanceOf(ApiError);
    expect(server.requests.length).toBeGreaterThan(1);
    expect(server.requests.length).toBeLessThan(1_000);
  });

  it.each([400, 401, 402, 404, 409, 500, 501])('%i is not retried', async (status) => {
    const r = recorder();
    server.handle((_req, res) => json(res, status, { error: `status ${status} for ${KEY}` }));
    const error = await failure(r.client.countBatch('b1'));
    expect(error.status).toBe(status);
    expect(error.retryable).toBe(false);
    expect(server.requests).toHaveLength(1);
    expect(r.sleeps).toEqual([]);
  });

  it('a refused connection is retried, then reported as a network error', async () => {
    const closed = await startTestServer();
    const url = closed.url;
    await closed.close();
    const client = createRoboflowClient({
      apiUrl: url,
      apiKey: KEY,
      workspace: 'acme',
      logger: capture.logger,
      retry: { maxAttempts: 2, baseDelayMs: 1 },
    });
    clients.push(client);
    const error = await failure(client.countBatch('b1'));
    expect(error.code).toBe(ErrorCode.network);
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('ECONNREFUSED');
    expect(error.message).not.toContain('api_key');
  });
});

describe('rate limit', () => {
  it('spaces requests evenly at rateLimitPerSecond', async () => {
    const sleeps: number[] = [];
    const client = createRoboflowClient({
      apiUrl: server.url,
      apiKey: KEY,
      workspace: 'acme',
      rateLimitPerSecond: 10,
      sleep: async (ms) => void sleeps.push(ms),
    });
    clients.push(client);
    server.handle((_req, res) => json(res, 200, { count: 1 }));
    await Promise.all([client.countBatch('a'), client.countBatch('b'), client.countBatch('c')]);
    expect(server.requests).toHaveLength(3);
    // The first goes at once; the next two wait for their slots, 100 ms apart.
    expect(sleeps).toHaveLength(2);
    const [first = 0, second = 0] = sleeps;
    expect(first).toBeGreaterThan(90);
    expect(second - first).toBeGreaterThan(90);
    expect(second - first).toBeLessThanOrEqual(100.01);
  });
});

describe('withRetry', () => {
  const retryable = () => new ApiError(ErrorCode.apiServer, 'GET /x', 503, undefined, { retryable: true });

  it('does not retry unknown errors (bugs) or non-retryable ones', async () => {
    let calls = 0;
    const policy = { maxAttempts: 5, baseDelayMs: 1, deadlineMs: 1_000 };
    await expect(
      withRetry(
        () => {
          calls++;
          throw new TypeError('boom');
        },
        policy,
        { what: 'x', sleep: async () => {} },
      ),
    ).rejects.toThrow('boom');
    expect(calls).toBe(1);
  });

  it('backs off exponentially with full jitter, capped', () => {
    const top = () => 0.999_999;
    expect([1, 2, 3, 4].map((a) => backoffDelayMs(a, 100, top))).toEqual([99, 199, 399, 799]);
    expect(backoffDelayMs(30, 100, top)).toBe(ROBOFLOW_API_DEFAULTS.maxBackoffMs - 1);
    expect(backoffDelayMs(3, 100, () => 0)).toBe(0);
  });

  it('waits the computed backoffs between attempts', async () => {
    const sleeps: number[] = [];
    let calls = 0;
    const result = await withRetry(
      async () => {
        if (++calls < 4) throw retryable();
        return 'done';
      },
      { maxAttempts: 4, baseDelayMs: 100, deadlineMs: 60_000 },
      { what: 'x', sleep: async (ms) => void sleeps.push(ms), random: () => 0.5 },
    );
    expect(result).toBe('done');
    expect(sleeps).toEqual([50, 100, 200]);
  });
});
