/**
 * Issue 14, point 12: an API that accepts connections and never answers (a loopback TCP server that
 * reads and says nothing). The retry deadline bounds a whole step, not each call: a step of many calls
 * fails within about one deadline plus one request timeout (before: one deadline per call, then
 * BullMQ's attempts with minutes of backoff), and while it retries, the run shows "API unreachable
 * since …, retrying until …" (the line `rfbatch status` and the live display print).
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeServiceContext,
  createLogger,
  createRoboflowClient,
  createServiceContext,
  enqueue,
  loadConfig,
  resolveRunSpec,
  RunSpecSchema,
  stageJobId,
  TERMINAL_STATUSES,
  type ServiceContext,
} from '@rfbatch/shared';
import { apiOutageLine } from '@rfbatch/run-control';
import { startJobs } from '@rfbatch/jobs';
import { cleanupPrefix, testPrefix, testRedisUrl } from '@rfbatch/testkit/redis';

const TIMEOUT_MS = 200;
const DEADLINE_MS = 1_000;

let hole: Server;
let holeUrl: string;
const sockets = new Set<Socket>();

beforeAll(async () => {
  hole = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.resume(); // reads everything, answers nothing
  });
  await new Promise<void>((r) => hole.listen(0, '127.0.0.1', () => r()));
  holeUrl = `http://127.0.0.1:${(hole.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => hole.close(() => r()));
});

// Attempts far beyond what fits in the deadline: the deadline, not the attempt count, must end each
// call (with 5 attempts and jittered backoff, a call could run out of attempts inside the deadline and
// fail with its last timeout instead; CI saw it once).
const retry = { maxAttempts: 1_000, baseDelayMs: 50, deadlineMs: DEADLINE_MS };

describe('a black-hole API', () => {
  it('bounds a step of many calls by one deadline, then every call fails at once', async () => {
    const client = createRoboflowClient({
      apiUrl: holeUrl,
      apiKey: 'k',
      workspace: 'ws',
      requestTimeoutMs: TIMEOUT_MS,
      retry,
    });
    try {
      const started = Date.now();
      const errors: string[] = [];
      // A stage that makes one call per file and records each failure (as an upload loop does).
      for (let i = 0; i < 20; i++)
        await client.countBatch(`b-${i}`).catch((e: Error) => errors.push(e.message));
      const tookMs = Date.now() - started;
      expect(errors).toHaveLength(20);
      // Before: every call waited out its own deadline (20 × ≥ 1 s).
      expect(tookMs).toBeLessThan(DEADLINE_MS + 2 * TIMEOUT_MS + 1_000);
      expect(errors[0]).toMatch(/has not answered since .*: GET .* gave up at the retry deadline of 1 s/);
      expect(errors.at(-1)).toMatch(/was not sent/);
    } finally {
      await client.close();
    }
  });

  it('notices when the API answers again (one probe per deadline)', async () => {
    let answering = false;
    const server: HttpServer = createHttpServer((req, res) => {
      req.resume();
      if (answering) res.writeHead(200, { 'content-type': 'application/json' }).end('{"count":3}');
      // else: never answer
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const client = createRoboflowClient({
      apiUrl: url,
      apiKey: 'k',
      workspace: 'ws',
      requestTimeoutMs: TIMEOUT_MS,
      retry,
    });
    try {
      await expect(client.countBatch('b')).rejects.toThrow(/has not answered since/);
      await expect(client.countBatch('b')).rejects.toThrow(/has not answered since/);
      answering = true;
      // Past the deadline, one call in a deadline is sent (a probe); the others fail at once.
      await new Promise((r) => setTimeout(r, DEADLINE_MS + 50));
      expect(await client.countBatch('b')).toBe(3);
      expect(await client.countBatch('b')).toBe(3);
    } finally {
      await client.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe('a stage against a black-hole API', () => {
  const prefix = testPrefix('hole');
  let ctx: ServiceContext;
  beforeAll(() => {
    const config = loadConfig({
      REDIS_URL: testRedisUrl(),
      RFBATCH_PREFIX: prefix,
      ROBOFLOW_API_KEY: 'k',
      ROBOFLOW_API_URL: holeUrl,
      ROBOFLOW_WORKSPACE: 'ws',
      RFBATCH_REQUEST_TIMEOUT_MS: String(TIMEOUT_MS),
      RFBATCH_RETRY_DEADLINE_MS: String(DEADLINE_MS),
      RFBATCH_RETRY_BASE_DELAY_MS: '50',
      RFBATCH_RETRY_MAX_ATTEMPTS: String(retry.maxAttempts),
    });
    ctx = createServiceContext(config, createLogger({ level: 'silent' }));
  });
  afterAll(async () => {
    await closeServiceContext(ctx);
    await cleanupPrefix(prefix);
  });

  it('fails the run within about one deadline, showing the outage while it retries', async () => {
    const jobs = await startJobs(ctx, { pollMinMs: 20, pollMaxMs: 100, lockDurationMs: 5_000 });
    try {
      const spec = resolveRunSpec(
        RunSpecSchema.parse({
          runId: 'r-hole',
          source: { kind: 'directory', path: '/data/in' },
          workflow: { workflowId: 'wf' },
          output: { dir: '/data/out' },
        }),
      );
      await ctx.store.create(spec);
      await ctx.store.setCounters(spec.runId, { expected: 5 });
      await ctx.store.setStatus(spec.runId, 'verifying');
      const started = Date.now();
      await enqueue(
        ctx.queues,
        'jobs',
        'verify',
        { runId: spec.runId, attempt: 0 },
        { jobId: stageJobId('verify', spec.runId) },
      );
      const shown = new Set<string>();
      let state = await ctx.store.require(spec.runId);
      while (!TERMINAL_STATUSES.includes(state.status) && Date.now() - started < 20_000) {
        const line = apiOutageLine(state.apiOutage);
        if (line) shown.add(line.replace(/\d{2}:\d{2}:\d{2}(\.\d+)?Z?/g, 'T'));
        await new Promise((r) => setTimeout(r, 50));
        state = await ctx.store.require(spec.runId);
      }
      const tookMs = Date.now() - started;
      expect(state.status).toBe('failed');
      expect(state.failedStage).toBe('verify');
      expect(state.error?.message).toMatch(/the API has not answered since .* the retry deadline of 1 s/);
      // Before: BullMQ's 8 attempts with exponential backoff (over two minutes).
      expect(tookMs).toBeLessThan(DEADLINE_MS + 4_000);
      expect([...shown].join('\n')).toMatch(
        /API unreachable since .*, retrying until .* \(last: GET .*timed out after 200 ms\)/,
      );
      // The run has ended: its view no longer shows the outage.
      expect(state.apiOutage).toBeUndefined();
    } finally {
      await jobs.close();
    }
  });
});
