import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { JobBody } from '../api/jobs.schema.js';
import { ResponseInvalidError, ValidationError } from '../errors.js';
import { json, type RecordedRequest } from '@rfbatch/testkit/api-server';
import { BP, T, clientFixture } from '@rfbatch/testkit/roboflow-client';
import { collect } from './paginate.js';

const fx = clientFixture();
beforeAll(fx.start);
afterEach(fx.reset);
afterAll(fx.stop);
const { only, queryOf, failure } = fx;

const jobMeta = (id: string, extra: Record<string, unknown> = {}) => ({
  jobId: id,
  name: id,
  jobDefinition: { type: 'simple-image-processing-v1' },
  currentStage: null,
  plannedStages: ['processing', 'export'],
  error: false,
  isTerminal: false,
  lastNotification: null,
  createdAt: T,
  lastUpdate: T,
  restartParametersOverride: [],
  ...extra,
});

describe('batch processing endpoints', () => {
  const body: JobBody = {
    type: 'simple-image-processing-v1',
    jobInput: { type: 'staging-batch-input-v1', batchId: 'imgs' },
    computeConfiguration: { type: 'compute-configuration-v2', machineType: 'gpu', workersPerMachine: 2 },
    processingSpecification: {
      type: 'workflows-processing-specification-v1',
      workspace: 'acme',
      workflowId: 'detect',
      aggregationFormat: 'jsonl',
    },
    processingTimeoutSeconds: 3600,
    maxImageFailureRate: 0.1,
    notificationsURL: 'https://hooks.test/job',
  };

  it('listJobs: paged jobs', async () => {
    fx.server.handle((req, res) =>
      json(
        res,
        200,
        req.query.get('nextPageToken')
          ? { jobs: [jobMeta('j2')], nextPageToken: null }
          : { jobs: [jobMeta('j1')], nextPageToken: 'n' },
      ),
    );
    const jobs = await collect(fx.client.listJobs({ pageSize: 1 }));
    expect(jobs.map((j) => j.jobId)).toEqual(['j1', 'j2']);
    expect(jobs[0]).toEqual(jobMeta('j1'));
    expect(fx.server.requests.map((r) => [r.method, r.path, queryOf(r)])).toEqual([
      ['GET', `${BP}/jobs`, { pageSize: '1' }],
      ['GET', `${BP}/jobs`, { pageSize: '1', nextPageToken: 'n' }],
    ]);
  });

  it('startJob: POST /jobs/{id}?name= with the job body as JSON', async () => {
    fx.server.handle((_req, res) => json(res, 200, { status: 'ok' }));
    await fx.client.startJob('job-abc', body, { name: 'Cats run' });
    const req = only();
    expect([req.method, req.path, queryOf(req)]).toEqual([
      'POST',
      `${BP}/jobs/job-abc`,
      { name: 'Cats run' },
    ]);
    expect(req.headers['content-type']).toBe('application/json');
    expect(JSON.parse(req.body.toString())).toEqual(body);
  });

  it('startJob: a video job body, and an empty 200 body is accepted', async () => {
    fx.server.handle((_req, res) => {
      res.writeHead(200);
      res.end();
    });
    const video: JobBody = {
      type: 'simple-video-processing-v1',
      jobInput: { type: 'staging-batch-input-v1', batchId: 'vids' },
      computeConfiguration: { type: 'compute-configuration-v2' },
      processingSpecification: {
        type: 'workflows-processing-specification-v1',
        workspace: 'acme',
        workflowId: 'wf',
        maxVideoFPS: 5,
      },
    };
    await fx.client.startJob('job-v', video);
    const req = only();
    expect(queryOf(req)).toEqual({});
    expect(JSON.parse(req.body.toString())).toEqual(video);
  });

  it('startJob: a bad job id or body is refused before any request, with the rule', async () => {
    const error = await failure(fx.client.startJob('Job_With_Capitals', body));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toBe(
      'invalid job id: (root): job id "Job_With_Capitals" breaks the rule: 1 to 20 characters of a-z, 0-9, "_" and "-" (lowercase)',
    );
    const bad = { ...body, webhookUrl: '' } as unknown as JobBody;
    const error2 = await failure(fx.client.startJob('job-x', bad));
    expect(error2.message).toContain('invalid job body');
    expect(error2.message).toContain('webhookUrl');
    expect(fx.server.requests).toHaveLength(0);
  });

  it('getJob: GET /jobs/{id}, raw answer plus normalised state (progress from the stages when none is sent)', async () => {
    const meta = jobMeta('j1', { currentStage: 'processing' });
    fx.server.handle((req, res) =>
      req.path.endsWith('/stages')
        ? json(res, 500, { error: 'stages down' })
        : json(res, 200, { status: 'ok', job: meta }),
    );
    const got = await fx.client.getJob('j1');
    // The status read, then the stages for its progress: a failure there leaves the progress unknown.
    const [req, stages] = fx.server.requests;
    expect([req?.method, req?.path]).toEqual(['GET', `${BP}/jobs/j1`]);
    expect(stages?.path).toBe(`${BP}/jobs/j1/stages`);
    expect(got.job).toEqual(meta);
    expect(got.raw.status).toBe('ok');
    expect(got.state).toEqual({
      state: 'processing',
      stage: 'processing',
      progress: null,
      terminal: false,
      error: false,
    });
  });

  it('getJob: the {jobStatus, progress} shape', async () => {
    fx.server.handle((_req, res) => json(res, 200, { jobStatus: 'running', progress: 0.25 }));
    const got = await fx.client.getJob('j1');
    expect(got.job).toBeUndefined();
    expect(got.state).toEqual({
      state: 'processing',
      stage: null,
      progress: 0.25,
      terminal: false,
      error: false,
    });
  });

  it('getJob: an answer with neither shape is a response error', async () => {
    fx.server.handle((_req, res) => json(res, 200, { status: 'ok' }));
    const error = await failure(fx.client.getJob('j1'));
    expect(error).toBeInstanceOf(ResponseInvalidError);
    expect(error.message).toBe(
      `GET ${BP}/jobs/j1 answered 200 with an unexpected body: body: neither "job" nor "jobStatus" is present`,
    );
  });

  it('listStages: GET stages (not paged)', async () => {
    const stage = {
      processingStageId: 'st-1',
      processingStageName: 'processing',
      tasksNumber: 3,
      outputBatches: ['j1-processing'],
      startTimestamp: T,
      notification: { type: 'info' },
      statusType: 'info',
      lastEventTimestamp: T,
    };
    fx.server.handle((_req, res) => json(res, 200, { stages: [stage] }));
    expect(await fx.client.listStages('j1')).toEqual([stage]);
    const req = only();
    expect([req.method, req.path]).toEqual(['GET', `${BP}/jobs/j1/stages`]);
  });

  it('listTasks: paged tasks of a stage', async () => {
    const task = (id: string, progress: number | null) => ({
      taskId: id,
      notification: 'running',
      statusType: 'info',
      progress,
      eventTimestamp: T,
    });
    fx.server.handle((req, res) =>
      json(
        res,
        200,
        req.query.get('nextPageToken')
          ? { tasks: [task('t2', null)], nextPageToken: null }
          : { tasks: [task('t1', 0.5)], nextPageToken: 'k' },
      ),
    );
    expect(await collect(fx.client.listTasks('j1', 'st-1', { pageSize: 5 }))).toEqual([
      task('t1', 0.5),
      task('t2', null),
    ]);
    expect(fx.server.requests.map((r) => [r.path, queryOf(r)])).toEqual([
      [`${BP}/jobs/j1/stages/st-1/tasks`, { pageSize: '5' }],
      [`${BP}/jobs/j1/stages/st-1/tasks`, { pageSize: '5', nextPageToken: 'k' }],
    ]);
  });

  it('abortJob: POST abort with no body, returns the answer', async () => {
    fx.server.handle((_req, res) => json(res, 200, { status: 'ok', aborted: true }));
    expect(await fx.client.abortJob('j1')).toEqual({ status: 'ok', aborted: true });
    const req = only();
    expect([req.method, req.path, req.body.length]).toEqual(['POST', `${BP}/jobs/j1/abort`, 0]);
    expect(req.headers['content-type']).toBeUndefined();
  });

  it('restartJob: no body without overrides, JSON overrides otherwise', async () => {
    fx.server.handle((_req, res) => json(res, 200, {}));
    await fx.client.restartJob('j1');
    const overrides = {
      type: 'parameters-override-v1' as const,
      computeConfiguration: {
        type: 'compute-configuration-v2' as const,
        machineType: 'cpu' as const,
        workersPerMachine: 4,
      },
      maxParallelTasks: 2,
      processingTimeoutSeconds: 600,
      maxImageFailureRate: 0.2,
    };
    await fx.client.restartJob('j1', overrides);
    const [bare, withBody] = fx.server.requests as [RecordedRequest, RecordedRequest];
    expect([bare.method, bare.path, bare.body.length, bare.headers['content-type']]).toEqual([
      'POST',
      `${BP}/jobs/j1/restart`,
      0,
      undefined,
    ]);
    expect(withBody.headers['content-type']).toBe('application/json');
    expect(JSON.parse(withBody.body.toString())).toEqual(overrides);
  });

  it('listLogs: paged logs with severity', async () => {
    const log = (n: number) => ({
      createdAt: T,
      severity: 'error',
      reportingModule: 'worker',
      logType: 'task-error',
      payload: { n },
      processingStageId: 'st-1',
      taskId: null,
    });
    fx.server.handle((req, res) =>
      json(
        res,
        200,
        req.query.get('nextPageToken')
          ? { logs: [log(2)], nextPageToken: null }
          : { logs: [log(1)], nextPageToken: 'q' },
      ),
    );
    const logs = await collect(fx.client.listLogs('j1', { severity: 'error', pageSize: 1 }));
    expect(logs).toEqual([log(1), log(2)]);
    expect(fx.server.requests.map((r) => [r.path, queryOf(r)])).toEqual([
      [`${BP}/jobs/j1/logs`, { pageSize: '1', severity: 'error' }],
      [`${BP}/jobs/j1/logs`, { pageSize: '1', severity: 'error', nextPageToken: 'q' }],
    ]);
  });
});
