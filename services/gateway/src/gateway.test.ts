import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeServiceContext,
  createLogger,
  createServiceContext,
  loadConfig,
  MetricName,
  stageJobId,
  type ServiceContext,
} from '@rfbatch/shared';
import { cleanupPrefix, testPrefix, testRedisUrl } from '@rfbatch/testkit/redis';
import { buildGateway } from './gateway.js';

const TOKEN = 'user-token-0123';
const ADMIN = 'admin-token-4567';
const SECRET = 'webhook-secret-0123456789';
const prefix = testPrefix('gw');
let ctx: ServiceContext;
let app: FastifyInstance;

const auth = { authorization: `Bearer ${TOKEN}` };
const hookHeaders = { authorization: 'Bearer rf_ws', 'content-type': 'application/json' };
const spec = (runId: string) => ({
  runId,
  source: { kind: 'directory', path: '/data/images' },
  workflow: { workflowId: 'wf' },
  output: { dir: '/tmp/out' },
});
const jobEvent = (jobId: string, eventId = randomUUID()) => ({
  type: 'roboflow-batch-job-notification-v1',
  event_id: eventId,
  job_id: jobId,
  job_state: 'success',
  delivery_attempt: 1,
});

beforeAll(async () => {
  const config = loadConfig({
    REDIS_URL: testRedisUrl(),
    RFBATCH_PREFIX: prefix,
    ROBOFLOW_API_KEY: 'test-key',
    // Nothing listens there: these tests never reach the API.
    ROBOFLOW_API_URL: 'http://127.0.0.1:9',
    ROBOFLOW_WORKSPACE: 'ws',
    RFBATCH_GATEWAY_TOKEN: TOKEN,
    RFBATCH_GATEWAY_ADMIN_TOKEN: ADMIN,
    RFBATCH_PUBLIC_URL: 'http://127.0.0.1:8080',
    RFBATCH_WEBHOOK_SECRET: SECRET,
  });
  ctx = createServiceContext(config, createLogger({ level: 'silent' }), { metrics: true });
  app = await buildGateway(ctx, { webhookBodyLimitBytes: 2_048 });
});

afterAll(async () => {
  await app.close();
  await closeServiceContext(ctx);
  await cleanupPrefix(prefix);
});

describe('auth', () => {
  it('serves /healthz without a token: Redis and the workers per queue', async () => {
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.ok).toBe(true);
    expect(body.redis.ok).toBe(true);
    expect(Object.keys(body.workers).sort()).toEqual(['export', 'ingest', 'jobs', 'runs']);
    expect(body.workers.ingest.count).toBe(0);
  });

  it('refuses the API without the token or with a wrong one, accepts the token and the admin token', async () => {
    expect((await app.inject({ method: 'GET', url: '/runs' })).statusCode).toBe(401);
    expect(
      (await app.inject({ method: 'GET', url: '/runs', headers: { authorization: 'Bearer nope-nope' } }))
        .statusCode,
    ).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'POST', url: '/runs', payload: spec('r-noauth') })).statusCode).toBe(
      401,
    );
    expect((await app.inject({ method: 'GET', url: '/runs', headers: auth })).statusCode).toBe(200);
    expect(
      (await app.inject({ method: 'GET', url: '/runs', headers: { authorization: `Bearer ${ADMIN}` } }))
        .statusCode,
    ).toBe(200);
  });

  it('answers unknown routes with 404 JSON', async () => {
    const res = await app.inject({ method: 'GET', url: '/nope', headers: auth });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('not_found');
  });
});

describe('runs API', () => {
  it('refuses an invalid RunSpec with 400 and every field error', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/runs',
      headers: auth,
      payload: {
        source: { kind: 'directory', path: '' },
        workflow: {},
        batchId: 'Bad Id',
        output: { dir: '/o' },
      },
    });
    expect(res.statusCode).toBe(400);
    const paths = res.json().error.problems.map((p: { path: string }) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['source.path', 'workflow.workflowId', 'batchId']));
  });

  it('submits a run once, lists it and shows it with its expiry', async () => {
    const first = await app.inject({
      method: 'POST',
      url: '/runs',
      headers: auth,
      payload: spec('r-gw-submit'),
    });
    expect(first.statusCode).toBe(201);
    expect(first.json()).toEqual({ runId: 'r-gw-submit', created: true });
    expect(first.headers.location).toBe('/runs/r-gw-submit');
    const again = await app.inject({
      method: 'POST',
      url: '/runs',
      headers: auth,
      payload: spec('r-gw-submit'),
    });
    expect(again.statusCode).toBe(200);
    expect(again.json().created).toBe(false);
    expect(await ctx.queues.runs.getJob(stageJobId('intake', 'r-gw-submit'))).toBeDefined();

    const list = await app.inject({ method: 'GET', url: '/runs?limit=10', headers: auth });
    expect(list.json().runs.map((r: { runId: string }) => r.runId)).toContain('r-gw-submit');

    await ctx.store.setFields('r-gw-submit', {
      batchExpiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    const one = await app.inject({ method: 'GET', url: '/runs/r-gw-submit', headers: auth });
    expect(one.statusCode).toBe(200);
    const view = one.json();
    expect(view.status).toBe('queued');
    expect(view.spec.batchId).toBe('rfb-r-gw-submit');
    expect(view.expiry.batch.secondsLeft).toBeGreaterThan(3_500);
    expect(view.expiry.batch.secondsLeft).toBeLessThanOrEqual(3_600);
  });

  it('answers 404 for an unknown run and 400 for a bad list query', async () => {
    expect((await app.inject({ method: 'GET', url: '/runs/r-missing', headers: auth })).statusCode).toBe(404);
    expect(
      (await app.inject({ method: 'POST', url: '/runs/r-missing/cancel', headers: auth })).statusCode,
    ).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/runs?limit=0', headers: auth })).statusCode).toBe(400);
  });

  it('cancels a run (once), then retries it as a new attempt', async () => {
    await app.inject({ method: 'POST', url: '/runs', headers: auth, payload: spec('r-gw-cancel') });
    const cancel = await app.inject({ method: 'POST', url: '/runs/r-gw-cancel/cancel', headers: auth });
    expect(cancel.statusCode).toBe(202);
    expect(cancel.json()).toMatchObject({ runId: 'r-gw-cancel', status: 'cancelled', cancelled: true });
    const twice = await app.inject({ method: 'POST', url: '/runs/r-gw-cancel/cancel', headers: auth });
    expect(twice.statusCode).toBe(200);
    expect(twice.json().cancelled).toBe(false);

    const retry = await app.inject({ method: 'POST', url: '/runs/r-gw-cancel/retry', headers: auth });
    expect(retry.statusCode).toBe(202);
    expect(retry.json()).toMatchObject({
      runId: 'r-gw-cancel',
      attempt: 1,
      resumedAt: 'plan',
      status: 'planning',
    });
    expect(await ctx.queues.ingest.getJob(stageJobId('plan', 'r-gw-cancel', 1))).toBeDefined();
  });

  it('refuses to retry a run that has not failed, and bad overrides', async () => {
    await app.inject({ method: 'POST', url: '/runs', headers: auth, payload: spec('r-gw-queued') });
    const retry = await app.inject({ method: 'POST', url: '/runs/r-gw-queued/retry', headers: auth });
    expect(retry.statusCode).toBe(400);
    expect(retry.json().error.message).toContain('only a failed or cancelled run can be retried');
    const bad = await app.inject({
      method: 'POST',
      url: '/runs/r-gw-queued/retry',
      headers: auth,
      payload: { machineType: 'tpu' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.problems[0].path).toBe('machineType');
  });
});

describe('webhooks', () => {
  const url = `/webhooks/roboflow/${SECRET}`;

  it('refuses a wrong path secret, a missing or wrong Authorization header', async () => {
    const body = jobEvent('rfb-nobody');
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/webhooks/roboflow/wrong-secret-000000',
          headers: hookHeaders,
          payload: body,
        })
      ).statusCode,
    ).toBe(403);
    expect(
      (
        await app.inject({
          method: 'POST',
          url,
          headers: { 'content-type': 'application/json' },
          payload: body,
        })
      ).statusCode,
    ).toBe(401);
    expect(
      (
        await app.inject({
          method: 'POST',
          url,
          headers: { ...hookHeaders, authorization: 'Bearer rf_other' },
          payload: body,
        })
      ).statusCode,
    ).toBe(401);
    expect(
      (
        await app.inject({
          method: 'POST',
          url,
          headers: { ...hookHeaders, authorization: `Bearer ${TOKEN}` },
          payload: body,
        })
      ).statusCode,
    ).toBe(401);
  });

  it('refuses an oversized body, a body that is not JSON and one that is not a notification', async () => {
    const huge = { ...jobEvent('rfb-big'), padding: 'x'.repeat(4_000) };
    expect((await app.inject({ method: 'POST', url, headers: hookHeaders, payload: huge })).statusCode).toBe(
      413,
    );
    expect(
      (
        await app.inject({
          method: 'POST',
          url,
          headers: { ...hookHeaders, 'content-type': 'application/xml' },
          payload: '<a/>',
        })
      ).statusCode,
    ).toBe(415);
    expect(
      (await app.inject({ method: 'POST', url, headers: hookHeaders, payload: '{not json' })).statusCode,
    ).toBe(400);
    const wrong = await app.inject({
      method: 'POST',
      url,
      headers: hookHeaders,
      payload: { type: 'something-else', event_id: 'e' },
    });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().error.code).toBe('webhooks.invalid');
  });

  it('acknowledges a notification for an unknown job and ignores it', async () => {
    const res = await app.inject({
      method: 'POST',
      url,
      headers: hookHeaders,
      payload: jobEvent('rfb-unknown'),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ ok: true, action: 'ignored' });
  });

  it('promotes the run’s delayed await job, once per event id', async () => {
    const runId = 'r-gw-hook';
    await ctx.store.create({ ...spec(runId), batchId: 'b-hook', jobId: 'j-hook', runId } as never);
    await ctx.store.linkRemote('job', 'j-hook', runId);
    const jobId = stageJobId('await', runId, 0);
    await ctx.queues.jobs.add('await', { runId, attempt: 0 }, { jobId, delay: 600_000 });
    expect(await (await ctx.queues.jobs.getJob(jobId))?.getState()).toBe('delayed');

    const event = jobEvent('j-hook');
    const res = await app.inject({ method: 'POST', url, headers: hookHeaders, payload: event });
    expect(res.json()).toMatchObject({ action: 'promoted', runId });
    expect(await (await ctx.queues.jobs.getJob(jobId))?.getState()).toBe('waiting');

    // Redelivery of the same event (delivery_attempt 2) is acknowledged and ignored.
    const again = await app.inject({
      method: 'POST',
      url,
      headers: hookHeaders,
      payload: { ...event, delivery_attempt: 2 },
    });
    expect(again.json()).toMatchObject({ action: 'ignored', reason: 'duplicate event' });
  });

  it('promotes the delayed verify job on an ingest notification', async () => {
    const runId = 'r-gw-ingest';
    await ctx.store.create({ ...spec(runId), batchId: 'b-ingest', jobId: 'j-ingest', runId } as never);
    await ctx.store.linkRemote('batch', 'b-ingest', runId);
    const jobId = stageJobId('verify', runId, 0);
    await ctx.queues.jobs.add('verify', { runId, attempt: 0 }, { jobId, delay: 600_000 });
    const res = await app.inject({
      method: 'POST',
      url,
      headers: hookHeaders,
      payload: {
        type: 'roboflow-data-staging-notification-v1',
        event_id: randomUUID(),
        ingest_id: 'rfb-ingest',
        batch_id: 'b-ingest',
        shard_id: null,
        notification: { type: 'ingest-status-notification-v1', success: true },
        delivery_attempt: 1,
      },
    });
    expect(res.json()).toMatchObject({ action: 'promoted', runId });
    expect(await (await ctx.queues.jobs.getJob(jobId))?.getState()).toBe('waiting');
  });

  it('answers 404 on the webhook route when no secret is configured', async () => {
    const bare = await buildGateway(
      { ...ctx, config: { ...ctx.config, gateway: { ...ctx.config.gateway, webhookSecret: undefined } } },
      { board: false },
    );
    try {
      const res = await bare.inject({ method: 'POST', url, headers: hookHeaders, payload: jobEvent('x') });
      expect(res.statusCode).toBe(404);
    } finally {
      await bare.close();
    }
  });
});

describe('metrics', () => {
  it('exposes job counts per queue and state, workers, runs and the shared counters', async () => {
    ctx.metrics?.inc(MetricName.bytesUploaded, {}, 1234);
    ctx.metrics?.inc(MetricName.apiRequests, { endpoint: 'GET /jobs/{id}', status: 200 });
    await ctx.metrics?.flush();
    const res = await app.inject({ method: 'GET', url: '/metrics', headers: auth });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    const text = res.body;
    // BullMQ's own series, every queue under one HELP/TYPE, with the deployment's prefix as a label.
    const prefix = ctx.config.redis.prefix;
    expect(text).toMatch(
      new RegExp(`^bullmq_job_count\\{queue="runs",state="waiting",prefix="${prefix}"\\} \\d+$`, 'm'),
    );
    expect(text).toMatch(
      new RegExp(`^bullmq_job_count\\{queue="jobs",state="delayed",prefix="${prefix}"\\} \\d+$`, 'm'),
    );
    expect(text).toMatch(
      new RegExp(`^bullmq_job_completed_total\\{queue="export",prefix="${prefix}"\\} \\d+$`, 'm'),
    );
    const helps = text.match(/^# HELP \S+/gm) ?? [];
    expect(helps.length).toBeGreaterThan(10);
    expect(new Set(helps).size).toBe(helps.length);
    expect(text).toMatch(/rfbatch_workers\{queue="export"\} 0/);
    expect(text).toMatch(/rfbatch_runs\{status="queued"\} [1-9]/);
    expect(text).toContain('rfbatch_bytes_uploaded_total 1234');
    expect(text).toContain('rfbatch_api_requests_total{endpoint="GET /jobs/{id}",status="200"} 1');
    expect(text).toMatch(/rfbatch_webhooks_total\{action="promoted"\} [1-9]/);
  });

  it('exposes durations as histograms: cumulative buckets, +Inf, _sum and _count per label set', async () => {
    const labels = { endpoint: 'GET /histogram-test/{id}', status: 200 };
    for (const seconds of [0.003, 0.04, 0.04, 0.7, 90])
      ctx.metrics?.observe(MetricName.apiRequestDuration, labels, seconds);
    await ctx.metrics?.flush();
    const text = (await app.inject({ method: 'GET', url: '/metrics', headers: auth })).body;
    expect(text).toContain('# TYPE rfbatch_api_request_duration_seconds histogram');
    const series = (le: string) =>
      new RegExp(
        `^rfbatch_api_request_duration_seconds_bucket\\{endpoint="GET /histogram-test/\\{id\\}",status="200",le="${le.replace('+', '\\+')}"\\} (\\S+)$`,
        'm',
      ).exec(text)?.[1];
    expect([
      series('0.005'),
      series('0.025'),
      series('0.05'),
      series('1'),
      series('60'),
      series('+Inf'),
    ]).toEqual(['1', '1', '3', '4', '4', '5']);
    expect(text).toMatch(
      /^rfbatch_api_request_duration_seconds_count\{endpoint="GET \/histogram-test\/\{id\}",status="200"\} 5$/m,
    );
    expect(text).toMatch(
      /^rfbatch_api_request_duration_seconds_sum\{endpoint="GET \/histogram-test\/\{id\}",status="200"\} 90\.78/m,
    );
    expect(text).toContain('# TYPE rfbatch_stage_duration_seconds histogram');
    expect(text).toContain('# TYPE rfbatch_job_duration_seconds histogram');
  });

  it('counts a run cancelled through the API under runs_total, once', async () => {
    const read = async () => {
      await ctx.metrics?.flush();
      const text = (await app.inject({ method: 'GET', url: '/metrics', headers: auth })).body;
      return Number(/^rfbatch_runs_total\{outcome="cancelled"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    };
    const before = await read();
    expect(
      (await app.inject({ method: 'POST', url: '/runs', headers: auth, payload: spec('r-metrics-cancel') }))
        .statusCode,
    ).toBe(201);
    expect(
      (await app.inject({ method: 'POST', url: '/runs/r-metrics-cancel/cancel', headers: auth })).statusCode,
    ).toBe(202);
    expect(
      (await app.inject({ method: 'POST', url: '/runs/r-metrics-cancel/cancel', headers: auth })).statusCode,
    ).toBe(200);
    expect(await read()).toBe(before + 1);
  });
});

describe('Bull Board', () => {
  it('refuses the board without a token, and turns ?token= into a cookie without the token in it', async () => {
    expect((await app.inject({ method: 'GET', url: '/board' })).statusCode).toBe(401);
    const login = await app.inject({ method: 'GET', url: `/board/?token=${TOKEN}` });
    expect(login.statusCode).toBe(303);
    expect(login.headers.location).toBe('/board/');
    const cookie = String(login.headers['set-cookie']).split(';')[0] ?? '';
    expect(cookie).not.toContain(TOKEN);
    const page = await app.inject({ method: 'GET', url: '/board/', headers: { cookie } });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
  });

  it('lists every rfbatch queue read-only, and writable only on the admin board with the admin token', async () => {
    const res = await app.inject({ method: 'GET', url: '/board/api/queues', headers: auth });
    expect(res.statusCode).toBe(200);
    const queues = res.json().queues as Array<{ name: string; readOnlyMode: boolean }>;
    expect(queues.map((q) => q.name).sort()).toEqual(['export', 'ingest', 'jobs', 'runs']);
    expect(queues.every((q) => q.readOnlyMode)).toBe(true);

    expect(
      (await app.inject({ method: 'GET', url: '/admin/board/api/queues', headers: auth })).statusCode,
    ).toBe(401);
    const admin = await app.inject({
      method: 'GET',
      url: '/admin/board/api/queues',
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect(admin.statusCode).toBe(200);
    expect((admin.json().queues as Array<{ readOnlyMode: boolean }>).every((q) => !q.readOnlyMode)).toBe(
      true,
    );
  });

  it("shows job data redacted: a notify URL's token stays out of the board", async () => {
    const notify = 'https://hooks.example.test/rfbatch?token=board-secret-123456';
    const submitted = await app.inject({
      method: 'POST',
      url: '/runs',
      headers: auth,
      payload: { ...spec('r-board-redact'), notify },
    });
    expect(submitted.statusCode).toBe(201);
    const res = await app.inject({
      method: 'GET',
      url: '/board/api/queues?activeQueue=runs&status=waiting&page=1',
      headers: auth,
    });
    expect(res.statusCode).toBe(200);
    const runs = (
      res.json().queues as Array<{ name: string; jobs: Array<{ id: string; data: unknown }> }>
    ).find((q) => q.name === 'runs');
    const job = runs?.jobs.find((j) => j.id === stageJobId('intake', 'r-board-redact'));
    expect(JSON.stringify(job?.data)).toContain('https://hooks.example.test/<redacted>');
    expect(res.body).not.toContain('board-secret-123456');
  });

  it('refuses a write on the read-only board', async () => {
    const res = await app.inject({ method: 'PUT', url: '/board/api/queues/runs/pause', headers: auth });
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(await ctx.queues.runs.isPaused()).toBe(false);
  });
});
