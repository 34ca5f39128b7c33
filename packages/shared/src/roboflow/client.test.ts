import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { JobBody } from '../api/jobs.schema.js';
import { ApiError, ErrorCode, ResponseInvalidError, ValidationError } from '../errors.js';
import { createRoboflowClient, type ClosableRoboflowClient } from './client.js';
import { collect } from './paginate.js';
import {
  captureLogger,
  json,
  secretFreeRejection,
  startTestServer,
  type RecordedRequest,
  type TestServer,
} from './test-server.js';

const KEY = 'rf-test-KEY-9f8e7d6c5b';
const DS = '/data-staging/v1/external/acme';
const BP = '/batch-processing/v1/external/acme';
const T = '2026-03-01T10:00:00Z';

const batch = (id: string) => ({
  displayName: id,
  batchId: id,
  batchType: 'simple-batch',
  batchContentType: 'images',
  createdDate: T,
  expiryDate: '2026-03-08T10:00:00Z',
});
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

let server: TestServer;
let client: ClosableRoboflowClient;
const capture = captureLogger();

function newClient(extra: Partial<Parameters<typeof createRoboflowClient>[0]> = {}): ClosableRoboflowClient {
  return createRoboflowClient({
    apiUrl: server.url,
    apiKey: KEY,
    workspace: 'acme',
    logger: capture.logger,
    retry: { maxAttempts: 3, baseDelayMs: 1, deadlineMs: 5_000 },
    ...extra,
  });
}

/** The one request the call made, checked to carry the API key. */
function only(): RecordedRequest {
  expect(server.requests).toHaveLength(1);
  const req = server.requests[0] as RecordedRequest;
  expect(req.query.get('api_key')).toBe(KEY);
  return req;
}
const queryOf = (req: RecordedRequest) => Object.fromEntries([...req.query].filter(([k]) => k !== 'api_key'));

/** The error a promise rejects with, checked to show the API key nowhere. */
const failure = (promise: Promise<unknown>) => secretFreeRejection(promise, [KEY]);

beforeAll(async () => {
  server = await startTestServer();
  client = newClient();
});
afterEach(() => {
  server.requests.length = 0;
});
afterAll(async () => {
  await client.close();
  await server.close();
  expect(capture.lines.length).toBeGreaterThan(10);
  expect(capture.lines.join('\n')).not.toContain(KEY);
});

describe('workspace discovery', () => {
  it('asks GET /?api_key= once and caches the slug', async () => {
    server.handle((_req, res) => json(res, 200, { workspace: 'acme', extra: 1 }));
    const discovering = newClient({ workspace: undefined });
    expect(await discovering.workspace()).toBe('acme');
    expect(await discovering.workspace()).toBe('acme');
    const req = only();
    expect(req.method).toBe('GET');
    expect(req.path).toBe('/');
    await discovering.close();
  });

  it('uses the discovered slug in every path, and tries again after a failure', async () => {
    let calls = 0;
    server.handle((req, res) => {
      if (req.path === '/')
        return json(
          res,
          calls++ === 0 ? 401 : 200,
          calls === 1 ? { error: 'bad key' } : { workspace: 'other-ws' },
        );
      return json(res, 200, { count: 1 });
    });
    const discovering = newClient({ workspace: undefined });
    const error = await failure(discovering.workspace());
    expect(error.code).toBe(ErrorCode.apiUnauthorized);
    expect(await discovering.countBatch('b1')).toBe(1);
    expect(server.requests.map((r) => r.path)).toEqual([
      '/',
      '/',
      '/data-staging/v1/external/other-ws/batches/b1/count',
    ]);
    await discovering.close();
  });

  it('skips discovery when the workspace is configured', async () => {
    expect(await client.workspace()).toBe('acme');
    expect(server.requests).toHaveLength(0);
  });
});

describe('data staging endpoints', () => {
  it('requestVideoUploadUrl: POST upload/video with fileName and displayName', async () => {
    server.handle((_req, res) =>
      json(res, 200, {
        status: 'ok',
        signedURLDetails: {
          uploadURL: 'https://store.test/v?sig=1',
          extensionHeaders: { 'x-goog-meta': 'a' },
        },
      }),
    );
    const details = await client.requestVideoUploadUrl('vids', 'clip.mp4', { displayName: 'My videos' });
    const req = only();
    expect(req.method).toBe('POST');
    expect(req.path).toBe(`${DS}/batches/vids/upload/video`);
    expect(queryOf(req)).toEqual({ fileName: 'clip.mp4', displayName: 'My videos' });
    expect(req.body.length).toBe(0);
    expect(details).toEqual({
      uploadURL: 'https://store.test/v?sig=1',
      extensionHeaders: { 'x-goog-meta': 'a' },
    });
  });

  it('requestVideoUploadUrl: displayName falls back to the batch id, as the official client does', async () => {
    server.handle((_req, res) =>
      json(res, 200, { signedURLDetails: { uploadURL: 'https://store.test/v', extensionHeaders: {} } }),
    );
    await client.requestVideoUploadUrl('vids', 'clip.mp4');
    expect(queryOf(only())).toEqual({ fileName: 'clip.mp4', displayName: 'vids' });
  });

  it('uploadImage: one multipart part named after the file, exact Content-Length, no part Content-Type', async () => {
    server.handle((_req, res) => json(res, 200, { status: 'ok' }));
    const bytes = Buffer.from([0xff, 0xd8, 0xff, 0x00, 0x0d, 0x0a, 0x42]);
    await client.uploadImage('imgs', 'cat 1.jpg', {
      stream: () => Readable.from([bytes]),
      size: bytes.length,
    });
    const req = only();
    expect(req.method).toBe('POST');
    expect(req.path).toBe(`${DS}/batches/imgs/upload/image`);
    expect(queryOf(req)).toEqual({ fileName: 'cat 1.jpg', displayName: 'imgs' });
    const boundary = /^multipart\/form-data; boundary=(.+)$/.exec(String(req.headers['content-type']))?.[1];
    expect(boundary).toBeDefined();
    const expected = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="cat 1.jpg"; filename="cat 1.jpg"\r\n\r\n`,
      ),
      bytes,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    expect(req.body.equals(expected)).toBe(true);
    expect(req.headers['content-length']).toBe(String(expected.length));
  });

  it('uploadImage: streams a file from disk, and a retry sends the whole body again', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rfb-client-'));
    try {
      const file = join(dir, 'big.png');
      const data = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
      await writeFile(file, data);
      let n = 0;
      server.handle((_req, res) => (n++ === 0 ? json(res, 503, { error: 'busy' }) : json(res, 200, {})));
      await client.uploadImage('imgs', 'big.png', {
        stream: () => createReadStream(file),
        size: data.length,
      });
      expect(server.requests).toHaveLength(2);
      for (const req of server.requests) {
        expect(req.body.length).toBe(Number(req.headers['content-length']));
        expect(req.body.includes(data)).toBe(true);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('uploadImage: a file whose size differs from the plan fails without a retry', async () => {
    server.handle((_req, res) => json(res, 200, {}));
    const error = await failure(
      client.uploadImage('imgs', 'a.jpg', { stream: () => Readable.from([Buffer.from('abc')]), size: 10 }),
    );
    expect(error.code).toBe(ErrorCode.source);
    expect(error.message).toBe('"a.jpg" has fewer bytes than the 10 planned');
    expect(error.retryable).toBe(false);
    expect(server.requests.length).toBeLessThanOrEqual(1);
  });

  it('requestShardUploadUrl: POST bulk-upload/image-files with displayName and no body', async () => {
    server.handle((_req, res) =>
      json(res, 200, {
        status: 'ok',
        signedURLDetails: {
          uploadURL: 'https://store.test/s.tar?X-Goog-Signature=x',
          extensionHeaders: { 'x-a': '1' },
          method: 'PUT',
          maxFileSize: 1000,
        },
      }),
    );
    const details = await client.requestShardUploadUrl('bulk', { displayName: 'Bulk' });
    const req = only();
    expect(req.method).toBe('POST');
    expect(req.path).toBe(`${DS}/batches/bulk/bulk-upload/image-files`);
    expect(queryOf(req)).toEqual({ displayName: 'Bulk' });
    expect(req.body.length).toBe(0);
    expect(details).toEqual({
      uploadURL: 'https://store.test/s.tar?X-Goog-Signature=x',
      extensionHeaders: { 'x-a': '1' },
      method: 'PUT',
      maxFileSize: 1000,
    });
  });

  it('ingestImageReferences: POSTs the JSON body (inline list) and parses ingestId, shardIds, duplicated', async () => {
    server.handle((_req, res) =>
      json(res, 200, { ingestId: 'ing-1', shardIds: ['s1', 's2'], duplicated: false }),
    );
    const body = {
      imageReferences: [{ name: 'a.jpg', url: 'https://bucket.test/a.jpg?sig=1' }],
      ingestId: 'ing-1',
      notificationsURL: 'https://hooks.test/x',
      notificationCategories: ['ingest-status' as const],
    };
    const res = await client.ingestImageReferences('refs', body);
    const req = only();
    expect(req.method).toBe('POST');
    expect(req.path).toBe(`${DS}/batches/refs/bulk-upload/image-references`);
    expect(queryOf(req)).toEqual({ displayName: 'refs' });
    expect(req.headers['content-type']).toBe('application/json');
    expect(JSON.parse(req.body.toString())).toEqual(body);
    expect(res).toEqual({ ingestId: 'ing-1', shardIds: ['s1', 's2'], duplicated: false });
  });

  it('ingestImageReferences: the references-URL form', async () => {
    server.handle((_req, res) => json(res, 200, { ingestId: 'generated', duplicated: true }));
    const res = await client.ingestImageReferences(
      'refs',
      { imageReferencesURL: 'https://bucket.test/refs.jsonl' },
      { displayName: 'R' },
    );
    const req = only();
    expect(queryOf(req)).toEqual({ displayName: 'R' });
    expect(JSON.parse(req.body.toString())).toEqual({ imageReferencesURL: 'https://bucket.test/refs.jsonl' });
    expect(res).toEqual({ ingestId: 'generated', duplicated: true });
  });

  it('ingestVideoReferences: POST video-references', async () => {
    server.handle((_req, res) => json(res, 200, { status: 'ok', ingestId: 'v-1' }));
    const body = { videoReferences: [{ name: 'a.mp4', url: 'https://bucket.test/a.mp4' }] };
    const res = await client.ingestVideoReferences('vrefs', body);
    const req = only();
    expect(req.method).toBe('POST');
    expect(req.path).toBe(`${DS}/batches/vrefs/bulk-upload/video-references`);
    expect(JSON.parse(req.body.toString())).toEqual(body);
    expect(res).toEqual({ status: 'ok', ingestId: 'v-1' });
  });

  it('the references ingests get twice the request timeout', async () => {
    const slow = newClient({ requestTimeoutMs: 150, retry: { maxAttempts: 1 } });
    server.handle(() => {}); // never answers
    const ingest = await failure(
      slow.ingestImageReferences('refs', { imageReferencesURL: 'https://b.test/r.jsonl' }),
    );
    expect(ingest.code).toBe(ErrorCode.timeout);
    expect(ingest.message).toBe(
      `POST ${DS}/batches/refs/bulk-upload/image-references timed out after 300 ms`,
    );
    const count = await failure(slow.countBatch('refs'));
    expect(count.message).toBe(`GET ${DS}/batches/refs/count timed out after 150 ms`);
    await slow.close();
  });

  it('listBatches: follows nextPageToken across 3 pages and stops at null', async () => {
    server.handle((req, res) => {
      const token = req.query.get('nextPageToken');
      if (token === null) return json(res, 200, { batches: [batch('b1'), batch('b2')], nextPageToken: 'p2' });
      if (token === 'p2') return json(res, 200, { batches: [batch('b3')], nextPageToken: 'p3' });
      return json(res, 200, { status: 'ok', batches: [batch('b4')], nextPageToken: null });
    });
    const all = await collect(client.listBatches({ pageSize: 2 }));
    expect(all.map((b) => b.batchId)).toEqual(['b1', 'b2', 'b3', 'b4']);
    expect(all[0]).toEqual(batch('b1'));
    expect(server.requests.map((r) => [r.method, r.path, queryOf(r)])).toEqual([
      ['GET', `${DS}/batches`, { pageSize: '2' }],
      ['GET', `${DS}/batches`, { pageSize: '2', nextPageToken: 'p2' }],
      ['GET', `${DS}/batches`, { pageSize: '2', nextPageToken: 'p3' }],
    ]);
    for (const r of server.requests) expect(r.query.get('api_key')).toBe(KEY);
  });

  it('pagination stops when the token is absent, and refuses a token loop', async () => {
    server.handle((_req, res) => json(res, 200, { batches: [batch('only')] }));
    expect((await collect(client.listBatches())).map((b) => b.batchId)).toEqual(['only']);
    expect(server.requests).toHaveLength(1);
    server.handle((req, res) =>
      json(res, 200, { batches: [], nextPageToken: req.query.get('nextPageToken') === 'a' ? 'b' : 'a' }),
    );
    const error = await failure(collect(client.listBatches()));
    expect(error).toBeInstanceOf(ResponseInvalidError);
    expect(error.message).toContain('field "nextPageToken"');
  });

  it('getBatch: GET /batches/{id} and unwraps "batch"', async () => {
    server.handle((_req, res) =>
      json(res, 200, { status: 'ok', batch: { ...batch('b1'), unknownField: true } }),
    );
    expect(await client.getBatch('b1')).toEqual(batch('b1'));
    const req = only();
    expect([req.method, req.path, queryOf(req)]).toEqual(['GET', `${DS}/batches/b1`, {}]);
  });

  it('countBatch: GET count, with and without partName', async () => {
    server.handle((_req, res) => json(res, 200, { status: 'ok', count: 42 }));
    expect(await client.countBatch('b1')).toBe(42);
    expect(await client.countBatch('b1', { partName: 'images' })).toBe(42);
    expect(server.requests.map((r) => [r.method, r.path, queryOf(r)])).toEqual([
      ['GET', `${DS}/batches/b1/count`, {}],
      ['GET', `${DS}/batches/b1/count`, { partName: 'images' }],
    ]);
  });

  it('listShards: paged shard statuses', async () => {
    const shard = (id: string) => ({
      shardId: id,
      statusName: 'indexed',
      statusType: 'info',
      eventTimestamp: T,
      shardObjectsCount: 500,
      statusMetadata: { note: 'x' },
    });
    server.handle((req, res) =>
      json(
        res,
        200,
        req.query.get('nextPageToken')
          ? { shards: [shard('s2')], nextPageToken: null }
          : { shards: [shard('s1')], nextPageToken: 't' },
      ),
    );
    expect(await collect(client.listShards('b1', { pageSize: 1 }))).toEqual([shard('s1'), shard('s2')]);
    expect(server.requests.map((r) => [r.path, queryOf(r)])).toEqual([
      [`${DS}/batches/b1/shards`, { pageSize: '1' }],
      [`${DS}/batches/b1/shards`, { pageSize: '1', nextPageToken: 't' }],
    ]);
  });

  it('listParts: GET parts', async () => {
    const parts = [
      { partName: 'predictions', partType: 'sharded', contentType: 'metadata' },
      {
        partName: 'images',
        partType: 'simple',
        contentType: 'images',
        partDescription: 'persisted',
        nestedContentType: 'images',
      },
    ];
    server.handle((_req, res) => json(res, 200, { batchParts: parts }));
    expect(await client.listParts('out-export')).toEqual(parts);
    const req = only();
    expect([req.method, req.path]).toEqual(['GET', `${DS}/batches/out-export/parts`]);
  });

  it('listFiles: GET list with partName, across pages', async () => {
    const file = (n: string) => ({
      downloadURL: `https://store.test/${n}?X-Goog-Signature=s`,
      fileName: n,
      contentType: 'archives',
      partName: 'p',
      shardId: 's1',
    });
    server.handle((req, res) => {
      const t = req.query.get('nextPageToken');
      if (!t) return json(res, 200, { filesMetadata: [file('a.tar.gz')], nextPageToken: 'x' });
      if (t === 'x') return json(res, 200, { filesMetadata: [file('b.tar.gz')], nextPageToken: 'y' });
      return json(res, 200, { filesMetadata: [file('c.jsonl')] });
    });
    const files = await collect(client.listFiles('out', { partName: 'p', pageSize: 1 }));
    expect(files.map((f) => f.fileName)).toEqual(['a.tar.gz', 'b.tar.gz', 'c.jsonl']);
    expect(files[0]).toEqual(file('a.tar.gz'));
    expect(server.requests.map((r) => queryOf(r))).toEqual([
      { pageSize: '1', partName: 'p' },
      { pageSize: '1', partName: 'p', nextPageToken: 'x' },
      { pageSize: '1', partName: 'p', nextPageToken: 'y' },
    ]);
    expect(server.requests[0]?.path).toBe(`${DS}/batches/out/list`);
  });
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
    server.handle((req, res) =>
      json(
        res,
        200,
        req.query.get('nextPageToken')
          ? { jobs: [jobMeta('j2')], nextPageToken: null }
          : { jobs: [jobMeta('j1')], nextPageToken: 'n' },
      ),
    );
    const jobs = await collect(client.listJobs({ pageSize: 1 }));
    expect(jobs.map((j) => j.jobId)).toEqual(['j1', 'j2']);
    expect(jobs[0]).toEqual(jobMeta('j1'));
    expect(server.requests.map((r) => [r.method, r.path, queryOf(r)])).toEqual([
      ['GET', `${BP}/jobs`, { pageSize: '1' }],
      ['GET', `${BP}/jobs`, { pageSize: '1', nextPageToken: 'n' }],
    ]);
  });

  it('startJob: POST /jobs/{id}?name= with the job body as JSON', async () => {
    server.handle((_req, res) => json(res, 200, { status: 'ok' }));
    await client.startJob('job-abc', body, { name: 'Cats run' });
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
    server.handle((_req, res) => {
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
    await client.startJob('job-v', video);
    const req = only();
    expect(queryOf(req)).toEqual({});
    expect(JSON.parse(req.body.toString())).toEqual(video);
  });

  it('startJob: a bad job id or body is refused before any request, with the rule', async () => {
    const error = await failure(client.startJob('Job_With_Capitals', body));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toBe(
      'invalid job id: (root): job id "Job_With_Capitals" breaks the rule: 1 to 20 characters of a-z, 0-9, "_" and "-" (lowercase)',
    );
    const bad = { ...body, webhookUrl: '' } as unknown as JobBody;
    const error2 = await failure(client.startJob('job-x', bad));
    expect(error2.message).toContain('invalid job body');
    expect(error2.message).toContain('webhookUrl');
    expect(server.requests).toHaveLength(0);
  });

  it('getJob: GET /jobs/{id}, raw answer plus normalised state', async () => {
    const meta = jobMeta('j1', { currentStage: 'processing' });
    server.handle((_req, res) => json(res, 200, { status: 'ok', job: meta }));
    const got = await client.getJob('j1');
    const req = only();
    expect([req.method, req.path]).toEqual(['GET', `${BP}/jobs/j1`]);
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
    server.handle((_req, res) => json(res, 200, { jobStatus: 'running', progress: 0.25 }));
    const got = await client.getJob('j1');
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
    server.handle((_req, res) => json(res, 200, { status: 'ok' }));
    const error = await failure(client.getJob('j1'));
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
    server.handle((_req, res) => json(res, 200, { stages: [stage] }));
    expect(await client.listStages('j1')).toEqual([stage]);
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
    server.handle((req, res) =>
      json(
        res,
        200,
        req.query.get('nextPageToken')
          ? { tasks: [task('t2', null)], nextPageToken: null }
          : { tasks: [task('t1', 0.5)], nextPageToken: 'k' },
      ),
    );
    expect(await collect(client.listTasks('j1', 'st-1', { pageSize: 5 }))).toEqual([
      task('t1', 0.5),
      task('t2', null),
    ]);
    expect(server.requests.map((r) => [r.path, queryOf(r)])).toEqual([
      [`${BP}/jobs/j1/stages/st-1/tasks`, { pageSize: '5' }],
      [`${BP}/jobs/j1/stages/st-1/tasks`, { pageSize: '5', nextPageToken: 'k' }],
    ]);
  });

  it('abortJob: POST abort with no body, returns the answer', async () => {
    server.handle((_req, res) => json(res, 200, { status: 'ok', aborted: true }));
    expect(await client.abortJob('j1')).toEqual({ status: 'ok', aborted: true });
    const req = only();
    expect([req.method, req.path, req.body.length]).toEqual(['POST', `${BP}/jobs/j1/abort`, 0]);
    expect(req.headers['content-type']).toBeUndefined();
  });

  it('restartJob: no body without overrides, JSON overrides otherwise', async () => {
    server.handle((_req, res) => json(res, 200, {}));
    await client.restartJob('j1');
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
    await client.restartJob('j1', overrides);
    const [bare, withBody] = server.requests as [RecordedRequest, RecordedRequest];
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
    server.handle((req, res) =>
      json(
        res,
        200,
        req.query.get('nextPageToken')
          ? { logs: [log(2)], nextPageToken: null }
          : { logs: [log(1)], nextPageToken: 'q' },
      ),
    );
    const logs = await collect(client.listLogs('j1', { severity: 'error', pageSize: 1 }));
    expect(logs).toEqual([log(1), log(2)]);
    expect(server.requests.map((r) => [r.path, queryOf(r)])).toEqual([
      [`${BP}/jobs/j1/logs`, { pageSize: '1', severity: 'error' }],
      [`${BP}/jobs/j1/logs`, { pageSize: '1', severity: 'error', nextPageToken: 'q' }],
    ]);
  });
});

describe('malformed responses', () => {
  it('a missing count names the endpoint and the field, and is not retried', async () => {
    server.handle((_req, res) => json(res, 200, { status: 'ok' }));
    const error = await failure(client.countBatch('b1'));
    expect(error).toBeInstanceOf(ResponseInvalidError);
    expect(error.code).toBe(ErrorCode.apiResponseInvalid);
    expect(error.retryable).toBe(false);
    expect(error.message).toBe(
      `GET ${DS}/batches/b1/count answered 200 with an unexpected body: field "count": Invalid input: expected number, received undefined`,
    );
    expect(server.requests).toHaveLength(1);
  });

  it('a count of the wrong type', async () => {
    server.handle((_req, res) => json(res, 200, { count: 'many' }));
    const error = await failure(client.countBatch('b1'));
    expect(error.message).toContain('field "count": Invalid input: expected number, received string');
  });

  it('a nested bad field is named by its path', async () => {
    server.handle((_req, res) =>
      json(res, 200, {
        batches: [batch('ok'), { ...batch('bad'), createdDate: 'yesterday' }],
        nextPageToken: null,
      }),
    );
    const error = await failure(collect(client.listBatches()));
    expect(error.message).toContain(
      `GET ${DS}/batches answered 200 with an unexpected body: field "batches.1.createdDate"`,
    );
  });

  it('an HTML page instead of JSON', async () => {
    server.handle((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><html><head><title>Sign in</title></head><body>…</body></html>');
    });
    const error = await failure(client.countBatch('b1'));
    expect(error.message).toBe(
      `GET ${DS}/batches/b1/count answered 200 with an unexpected body: body: not JSON (text/html): an HTML page titled "Sign in"`,
    );
  });
});

describe('error statuses', () => {
  it('400 shows what the server said, in each of the three body shapes', async () => {
    const bodies = [
      { error: 'batch id too long' },
      { message: '"value" does not match any of the allowed types' },
      { error: { message: 'Job not found' } },
    ];
    const said: string[] = [];
    for (const b of bodies) {
      server.handle((_req, res) => json(res, 400, b));
      const error = await failure(client.countBatch('b1'));
      expect(error).toBeInstanceOf(ApiError);
      expect(error.code).toBe(ErrorCode.apiBadRequest);
      expect(error.status).toBe(400);
      said.push((error as ApiError).serverMessage ?? '');
    }
    expect(said).toEqual([
      'batch id too long',
      '"value" does not match any of the allowed types',
      'Job not found',
    ]);
    expect(server.requests).toHaveLength(3);
  });

  it('401 tells to check ROBOFLOW_API_KEY', async () => {
    server.handle((_req, res) => json(res, 401, { error: 'Unauthorized' }));
    const error = await failure(client.getBatch('b1'));
    expect(error.code).toBe(ErrorCode.apiUnauthorized);
    expect(error.message).toBe(`GET ${DS}/batches/b1 answered 401: Unauthorized`);
    expect(error.hint).toContain('check ROBOFLOW_API_KEY');
  });

  it('402 says batch processing needs a Growth or Enterprise plan', async () => {
    server.handle((_req, res) => json(res, 402, {}));
    const error = await failure(client.startJob('job-1', { ...bodyForErrors }));
    expect(error.code).toBe(ErrorCode.apiPaymentRequired);
    expect(error.message).toBe(
      `POST ${BP}/jobs/job-1 answered 402: batch processing is not enabled for workspace "acme": it needs a Growth or Enterprise plan`,
    );
  });

  it('404 and 409 name the resource', async () => {
    server.handle((_req, res) => json(res, 404, { error: 'Batch not found' }));
    const notFound = await failure(client.getBatch('gone'));
    expect(notFound.code).toBe(ErrorCode.apiNotFound);
    expect(notFound.hint).toBe(
      'check that batch "gone" exists in workspace "acme" (staged data expires after 7 days)',
    );
    server.handle((_req, res) => json(res, 409, { message: 'job exists with another definition' }));
    const conflict = await failure(client.startJob('job-1', { ...bodyForErrors }));
    expect(conflict.code).toBe(ErrorCode.apiConflict);
    expect(conflict.describe()).toBe(
      `POST ${BP}/jobs/job-1 answered 409: job exists with another definition — job "job-1" is already used with a different definition: choose a new id, or resubmit the identical definition`,
    );
  });

  it('a server that echoes the key in its error body does not leak it', async () => {
    server.handle((req, res) =>
      json(res, 400, { error: `bad request to ${server.url}${req.path}?api_key=${KEY}&x=1 with key ${KEY}` }),
    );
    const error = await failure(client.countBatch('b1'));
    expect(error.message).toContain('api_key=<redacted>');
  });
});

const bodyForErrors: JobBody = {
  type: 'simple-image-processing-v1',
  jobInput: { type: 'staging-batch-input-v1', batchId: 'imgs' },
  computeConfiguration: { type: 'compute-configuration-v2' },
  processingSpecification: {
    type: 'workflows-processing-specification-v1',
    workspace: 'acme',
    workflowId: 'wf',
  },
};
