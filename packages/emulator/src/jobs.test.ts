/** Contract tests of the Batch Processing API (roboflow-api.md §3, §4, §7–§9) through real HTTP. */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRoboflowClient,
  GetJobResponse,
  JobNotification,
  ListJobsResponse,
  ListLogsResponse,
  ListStagesResponse,
  ListTasksResponse,
  uploadToSignedUrl,
  type ClosableRoboflowClient,
  type JobBody,
} from '@rfbatch/shared';
import { startEmulator, type Emulator } from './index.js';
import { ManualClock } from './manual-clock.js';
import { BP, DS, imageJobBody, rawApi, webhookReceiver } from '@rfbatch/testkit/emulator';
import { jpegHeader, pngHeader } from '@rfbatch/testkit/images';
import { makeTar, readTar, type TarMember } from '@rfbatch/testkit/tars';

const clock = new ManualClock();
let em: Emulator;
let api: ReturnType<typeof rawApi>;
let client: ClosableRoboflowClient;

beforeAll(async () => {
  em = await startEmulator({
    indexingDelayMs: 0,
    processingMsPerItem: 1,
    jobStartDelayMs: 10,
    webhookRetryBaseMs: 20,
    pageSize: 50,
    clock,
  });
  api = rawApi(em.url);
  client = createRoboflowClient({ apiUrl: em.url, apiKey: 'test-key', retry: { maxAttempts: 1 } });
});
afterAll(async () => {
  await client.close();
  await em.close();
});

async function stageShards(
  target: ClosableRoboflowClient,
  batchId: string,
  shards: TarMember[][],
): Promise<void> {
  for (const members of shards) {
    const tar = await makeTar(members);
    await uploadToSignedUrl(await target.requestShardUploadUrl(batchId), Readable.from([tar]), tar.length);
  }
}

const images = (prefix: string, n: number): TarMember[] =>
  Array.from({ length: n }, (_, i) => ({ name: `${prefix}-${i}.png`, data: pngHeader(100 + i, 50 + i) }));

/** Moves the emulator's clock until the job ends. */
async function waitTerminal(target: ClosableRoboflowClient, on: ManualClock, jobId: string) {
  return on.runUntil(
    async () => {
      const r = await target.getJob(jobId);
      return r.job?.isTerminal ? r : undefined;
    },
    { timeoutMs: 30_000, what: `job ${jobId} to end` },
  );
}

async function download(url: string): Promise<Buffer> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

describe('job creation', () => {
  beforeAll(() => stageShards(client, 'jobs-input', [images('in', 3)]));

  it('validates the body: 400 {message} naming the bad field', async () => {
    const cases: [unknown, RegExp][] = [
      [{ ...imageJobBody('jobs-input'), processingSpecification: undefined }, /processingSpecification/],
      [{ ...imageJobBody('jobs-input'), type: 'simple-audio-processing-v1' }, /type/],
      [imageJobBody('jobs-input', {}, { maxImageFailureRate: 1.5 }), /maxImageFailureRate/],
      [imageJobBody('jobs-input', {}, { webhookUrl: '' }), /webhookUrl/],
      [
        imageJobBody('jobs-input', { aggregationFormat: 'xml' }),
        /processingSpecification\.aggregationFormat/,
      ],
      [imageJobBody('jobs-input', { workspace: 'elsewhere' }), /workspace/],
      [
        { ...imageJobBody('jobs-input'), type: 'simple-video-processing-v1', maxImageFailureRate: 0.1 },
        /maxImageFailureRate/,
      ],
    ];
    for (const [body, field] of cases) {
      const res = await api('POST', `${BP}/jobs/bad-body`, { json: body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.message).toMatch(field);
    }
    expect(
      (
        await api('POST', `${BP}/jobs/bad-body`, {
          body: '{not json',
          headers: { 'content-type': 'application/json' },
        })
      ).status,
    ).toBe(400);
    const badId = await api('POST', `${BP}/jobs/THIS-IS-NOT-A-VALID-JOB-ID`, {
      json: imageJobBody('jobs-input'),
    });
    expect(badId.status).toBe(400);
    expect(badId.body.error).toMatch(/job_id/);
    const noBatch = await api('POST', `${BP}/jobs/no-batch`, { json: imageJobBody('does-not-exist') });
    expect(noBatch.status).toBe(404);
    expect((await api('GET', `${BP}/jobs/bad-body`)).status).toBe(404);
  });

  it('is idempotent on an identical body (in any key order) and answers 409 to a different one', async () => {
    const body = imageJobBody('jobs-input');
    expect(
      (await api('POST', `${BP}/jobs/idem-1`, { json: body, query: { name: 'Idempotent' } })).body,
    ).toEqual({ status: 'ok' });
    const reordered = Object.fromEntries(Object.entries(body).reverse());
    expect((await api('POST', `${BP}/jobs/idem-1`, { json: reordered })).status).toBe(200);
    const different = await api('POST', `${BP}/jobs/idem-1`, {
      json: imageJobBody('jobs-input', { workflowId: 'other' }),
    });
    expect(different.status).toBe(409);
    expect(different.body.error).toMatch(/idem-1/);
    const listed = ListJobsResponse.parse((await api('GET', `${BP}/jobs`)).body).jobs.filter(
      (j) => j.jobId === 'idem-1',
    );
    expect(listed).toHaveLength(1);
    expect(listed[0]?.name).toBe('Idempotent');
    await waitTerminal(client, clock, 'idem-1');
  });
});

describe('a job from start to export', () => {
  const jobId = 'e2e-jsonl';
  const members = [...images('a', 3), { name: 'b-0.jpg', data: jpegHeader(640, 480) }];

  beforeAll(async () => {
    await stageShards(client, 'e2e-input', [members.slice(0, 2), members.slice(2)]);
    await client.startJob(jobId, imageJobBody('e2e-input', { persistImagesOutputs: true }) as JobBody, {
      name: 'End to end',
    });
  });

  it('serves both status shapes and ends completed', async () => {
    const done = await waitTerminal(client, clock, jobId);
    expect(done.state).toMatchObject({ state: 'completed', terminal: true, error: false });
    const raw = (await api('GET', `${BP}/jobs/${jobId}`)).body;
    GetJobResponse.parse(raw);
    expect(raw).toMatchObject({ status: 'ok', jobStatus: 'completed', progress: 1 });
    expect(raw.job).toMatchObject({
      jobId,
      name: 'End to end',
      currentStage: 'export',
      plannedStages: ['processing', 'export'],
      error: false,
      isTerminal: true,
      restartParametersOverride: [],
      lastNotification: { resultsBatches: [`${jobId}-processing`, `${jobId}-export`] },
    });
    expect(raw.job.jobDefinition).toEqual(imageJobBody('e2e-input', { persistImagesOutputs: true }));
    for (const key of ['createdAt', 'lastUpdate']) expect(raw.job[key]).toMatch(/Z$/);
  });

  it('lists stages with output batches and pages their tasks', async () => {
    const stages = ListStagesResponse.parse((await api('GET', `${BP}/jobs/${jobId}/stages`)).body).stages;
    expect(stages.map((s) => [s.processingStageName, s.tasksNumber, s.outputBatches, s.statusType])).toEqual([
      ['processing', 2, [`${jobId}-processing`], 'success'],
      ['export', 2, [`${jobId}-export`], 'success'],
    ]);
    const first = await api('GET', `${BP}/jobs/${jobId}/stages/processing/tasks`, { query: { pageSize: 1 } });
    const page1 = ListTasksResponse.parse(first.body);
    expect(page1.tasks).toHaveLength(1);
    expect(typeof page1.nextPageToken).toBe('string');
    const second = await api('GET', `${BP}/jobs/${jobId}/stages/processing/tasks`, {
      query: { pageSize: 1, nextPageToken: page1.nextPageToken ?? '' },
    });
    expect(second.body.nextPageToken).toBeNull();
    expect('nextPageToken' in second.body).toBe(true);
    expect(second.body.tasks[0]).toMatchObject({ statusType: 'success', progress: 1 });
    const viaClient = [];
    for await (const t of client.listTasks(jobId, 'export')) viaClient.push(t);
    expect(viaClient).toHaveLength(2);
    expect((await api('GET', `${BP}/jobs/${jobId}/stages/nope/tasks`)).status).toBe(404);
  });

  it('writes one JSONL record per image with its file name, size, digest and header', async () => {
    const parts = await client.listParts(`${jobId}-processing`);
    expect(parts).toEqual([expect.objectContaining({ partName: 'results', contentType: 'metadata' })]);
    expect((await client.getBatch(`${jobId}-processing`)).batchType).toBe('multipart-batch');
    expect(await client.countBatch(`${jobId}-processing`, { partName: 'results' })).toBe(2);
    const records: Record<string, unknown>[] = [];
    for await (const f of client.listFiles(`${jobId}-processing`, { partName: 'results' })) {
      expect(f.fileName).toMatch(/\.jsonl$/);
      expect(f.partName).toBe('results');
      for (const line of (await download(f.downloadURL)).toString('utf8').trim().split('\n'))
        records.push(JSON.parse(line) as Record<string, unknown>);
    }
    expect(records.map((r) => r.file_name).sort()).toEqual(members.map((m) => m.name).sort());
    for (const m of members) {
      const r = records.find((x) => x.file_name === m.name);
      expect(r?.sha256).toBe(
        createHash('sha256')
          .update(m.data as Buffer)
          .digest('hex'),
      );
      expect(r?.size_bytes).toBe(m.data?.length);
      expect(r?.error).toBeNull();
    }
    expect(records.find((r) => r.file_name === 'b-0.jpg')).toMatchObject({
      format: 'jpeg',
      width: 640,
      height: 480,
    });
    expect(records.find((r) => r.file_name === 'a-1.png')).toMatchObject({
      format: 'png',
      width: 101,
      height: 51,
    });
  });

  it('exports .tar.gz archives holding the results and, with persistImagesOutputs, the images', async () => {
    const files = [];
    for await (const f of client.listFiles(`${jobId}-export`, { partName: 'results' })) files.push(f);
    // Export tasks run in parallel: the listing holds them in the order they finished.
    expect(files.map((f) => f.fileName).sort()).toEqual(['export-00001.tar.gz', 'export-00002.tar.gz']);
    const names: string[] = [];
    for (const f of files) {
      expect(f.contentType).toBe('application/gzip');
      const members = await readTar(gunzipSync(await download(f.downloadURL)));
      names.push(...members.map((m) => m.name));
      const image = members.find((m) => m.name === 'images/a-0.png');
      if (image) expect(image.data.equals(pngHeader(100, 50))).toBe(true);
    }
    expect(names.sort()).toEqual([
      'images/a-0.png',
      'images/a-1.png',
      'images/a-2.png',
      'images/b-0.jpg',
      'processing-00001.jsonl',
      'processing-00002.jsonl',
    ]);
  });

  it('pages logs and filters them by severity', async () => {
    const all = [];
    for await (const log of client.listLogs(jobId)) all.push(log);
    expect(all.map((l) => l.logType)).toEqual(
      expect.arrayContaining(['job-accepted', 'stage-started', 'task-completed', 'job-completed']),
    );
    const page = ListLogsResponse.parse(
      (await api('GET', `${BP}/jobs/${jobId}/logs`, { query: { pageSize: 2 } })).body,
    );
    expect(page.logs).toHaveLength(2);
    expect(page.nextPageToken).toEqual(expect.any(String));
    const errors = (await api('GET', `${BP}/jobs/${jobId}/logs`, { query: { severity: 'error' } })).body;
    expect(errors).toEqual({ status: 'ok', logs: [], nextPageToken: null });
    expect((await api('GET', `${BP}/jobs/${jobId}/logs`, { query: { severity: 'fatal' } })).status).toBe(400);
  });

  it('lists jobs newest first with nextPageToken always present', async () => {
    const res = await api('GET', `${BP}/jobs`, { query: { pageSize: 1 } });
    expect(res.body.jobs).toHaveLength(1);
    expect(typeof res.body.nextPageToken).toBe('string');
    const jobs = [];
    for await (const j of client.listJobs({ pageSize: 1 })) jobs.push(j);
    expect(jobs.map((j) => j.jobId)).toContain(jobId);
    const created = jobs.map((j) => j.createdAt);
    expect(created).toEqual([...created].sort().reverse());
  });
});

describe('formats, videos and failures', () => {
  it('writes CSV with a header and one row per image when aggregationFormat is csv', async () => {
    await stageShards(client, 'csv-input', [images('c', 3)]);
    await client.startJob('csv-job', imageJobBody('csv-input', { aggregationFormat: 'csv' }) as JobBody);
    await waitTerminal(client, clock, 'csv-job');
    const files = [];
    for await (const f of client.listFiles('csv-job-processing', { partName: 'results' })) files.push(f);
    expect(files[0]).toMatchObject({ fileName: 'processing-00001.csv', contentType: 'text/csv' });
    const lines = (await download(files[0]?.downloadURL ?? '')).toString('utf8').trim().split('\n');
    expect(lines[0]?.split(',').slice(0, 6)).toEqual([
      'file_name',
      'format',
      'width',
      'height',
      'size_bytes',
      'sha256',
    ]);
    expect(
      lines
        .slice(1)
        .map((l) => l.split(',')[0])
        .sort(),
    ).toEqual(['c-0.png', 'c-1.png', 'c-2.png']);
  });

  it('processes a simple batch and a video batch (synthetic frames at maxVideoFPS)', async () => {
    const png = pngHeader(20, 10);
    await client.uploadImage('simple-in', 'one.png', {
      stream: () => Readable.from([png]),
      size: png.length,
    });
    await client.startJob('simple-job', imageJobBody('simple-in') as JobBody);
    expect((await waitTerminal(client, clock, 'simple-job')).state.state).toBe('completed');

    const video = Buffer.alloc(500_000, 3);
    await uploadToSignedUrl(
      await client.requestVideoUploadUrl('video-in', 'clip.mp4'),
      Readable.from([video]),
      video.length,
    );
    const body = { ...imageJobBody('video-in', { maxVideoFPS: 2 }), type: 'simple-video-processing-v1' };
    await client.startJob('video-job', body as JobBody);
    expect((await waitTerminal(client, clock, 'video-job')).state.state).toBe('completed');
    const [file] = await (async () => {
      const out = [];
      for await (const f of client.listFiles('video-job-processing', { partName: 'results' })) out.push(f);
      return out;
    })();
    const frames = (await download(file?.downloadURL ?? ''))
      .toString('utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(frames).toHaveLength(4); // 500 kB at the assumed 250 kB/s = 2 s, at 2 fps
    expect(frames[3]).toMatchObject({
      file_name: 'clip.mp4',
      frame_index: 3,
      frame_timestamp_s: 1.5,
      synthetic: true,
    });
  });

  it('fails a task with more than 10 undecodable images (no maxImageFailureRate), and tolerates them under the rate', async () => {
    const broken = Array.from({ length: 11 }, (_, i) => ({
      name: `bad-${i}.png`,
      data: Buffer.from(`not really a png ${i}`),
    }));
    await stageShards(client, 'broken-in', [[...broken, ...images('ok', 1)]]);
    await client.startJob('broken-job', imageJobBody('broken-in') as JobBody);
    const failed = await waitTerminal(client, clock, 'broken-job');
    expect(failed.state).toMatchObject({ state: 'failed', error: true });
    expect(failed.job?.lastNotification).toMatchObject({ type: 'job-failed', reason: 'image-failures' });
    const errors = (await api('GET', `${BP}/jobs/broken-job/logs`, { query: { severity: 'error' } })).body
      .logs;
    expect(errors.map((l: { logType: string }) => l.logType)).toContain('image-failures');
    expect(JSON.stringify(errors)).toMatch(/11 of 12 images failed/);
    const warnings = (
      await api('GET', `${BP}/jobs/broken-job/logs`, { query: { severity: 'warning', pageSize: 100 } })
    ).body.logs;
    expect(warnings.filter((l: { logType: string }) => l.logType === 'image-failed')).toHaveLength(11);

    await stageShards(client, 'tolerant-in', [[broken[0] as TarMember, ...images('ok', 3)]]);
    await client.startJob(
      'tolerant-job',
      imageJobBody('tolerant-in', {}, { maxImageFailureRate: 0.5 }) as JobBody,
    );
    expect((await waitTerminal(client, clock, 'tolerant-job')).state.state).toBe('completed');
    const [file] = await (async () => {
      const out = [];
      for await (const f of client.listFiles('tolerant-job-processing')) out.push(f);
      return out;
    })();
    const bad = (await download(file?.downloadURL ?? ''))
      .toString('utf8')
      .split('\n')
      .find((l) => l.includes('bad-0.png'));
    expect(JSON.parse(bad ?? '{}')).toMatchObject({
      file_name: 'bad-0.png',
      format: null,
      error: expect.stringMatching(/could not decode/),
    });
  });
});

describe('progress, abort and restart', () => {
  const slowClock = new ManualClock();
  let slow: Emulator;
  let slowClient: ClosableRoboflowClient;
  let slowApi: ReturnType<typeof rawApi>;

  beforeAll(async () => {
    slow = await startEmulator({
      indexingDelayMs: 0,
      processingMsPerItem: 25,
      jobStartDelayMs: 10,
      clock: slowClock,
    });
    slowClient = createRoboflowClient({ apiUrl: slow.url, apiKey: 'k', retry: { maxAttempts: 1 } });
    slowApi = rawApi(slow.url, 'k');
    await stageShards(slowClient, 'slow-in', [images('s', 40)]);
  });
  afterAll(async () => {
    await slowClient.close();
    await slow.close();
  });

  it('moves progress from pending through processing to completed', async () => {
    await slowClient.startJob('progress-job', imageJobBody('slow-in') as JobBody);
    const seen: { status: string; progress: number; taskProgress: number | null }[] = [];
    // Each step moves the clock by the time of one item.
    await slowClock.runUntil(
      async () => {
        const raw = (await slowApi('GET', `${BP}/jobs/progress-job`)).body;
        const stages = (await slowApi('GET', `${BP}/jobs/progress-job/stages`)).body.stages;
        let taskProgress: number | null = null;
        if (stages.length)
          taskProgress =
            (await slowApi('GET', `${BP}/jobs/progress-job/stages/processing/tasks`)).body.tasks[0]
              ?.progress ?? null;
        seen.push({ status: raw.jobStatus, progress: raw.progress, taskProgress });
        return raw.job.isTerminal ? true : undefined;
      },
      { stepMs: 25, timeoutMs: 30_000 },
    );
    const progress = seen.map((s) => s.progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.some((p) => p > 0 && p < 1)).toBe(true);
    expect(seen.some((s) => s.taskProgress !== null && s.taskProgress > 0 && s.taskProgress < 1)).toBe(true);
    expect(seen.at(-1)).toMatchObject({ status: 'completed', progress: 1 });
  });

  it('stops a job whose simulated machine time passes processingTimeoutSeconds', async () => {
    await stageShards(slowClient, 'timeout-in', [images('t', 60)]);
    await slowClient.startJob(
      'timeout-job',
      imageJobBody('timeout-in', {}, { processingTimeoutSeconds: 1 }) as JobBody,
    );
    const failed = await waitTerminal(slowClient, slowClock, 'timeout-job');
    expect(failed.job?.lastNotification).toMatchObject({ type: 'job-failed', reason: 'timeout' });
    const logs = (await slowApi('GET', `${BP}/jobs/timeout-job/logs`, { query: { severity: 'error' } })).body
      .logs;
    expect(
      logs.find((l: { logType: string }) => l.logType === 'processing-timeout')?.payload.message,
    ).toMatch(/processingTimeoutSeconds of 1 s/);
  });

  it('aborts a running job, then restarts it with overrides', async () => {
    await slowClient.startJob('abort-job', imageJobBody('slow-in') as JobBody);
    await slowClock.runUntil(
      async () => (((await slowClient.getJob('abort-job')).raw.progress ?? 0) > 0 ? true : undefined),
      { timeoutMs: 10_000, what: 'progress' },
    );
    const aborted = await slowApi('POST', `${BP}/jobs/abort-job/abort`);
    expect(aborted.status).toBe(200);
    const after = await slowClient.getJob('abort-job');
    expect(after.job).toMatchObject({
      isTerminal: true,
      error: true,
      lastNotification: { type: 'job-aborted' },
    });
    expect(after.state.state).toBe('failed');
    expect((await slowApi('POST', `${BP}/jobs/abort-job/abort`)).body.message).toMatch(/already finished/);
    const badOverride = await slowApi('POST', `${BP}/jobs/abort-job/restart`, {
      json: { type: 'parameters-override-v1', maxParallelTasks: -1 },
    });
    expect(badOverride.status).toBe(400);
    expect(badOverride.body.message).toMatch(/maxParallelTasks/);
    const overrides = {
      type: 'parameters-override-v1' as const,
      computeConfiguration: { type: 'compute-configuration-v2' as const, machineType: 'gpu' as const },
      maxParallelTasks: 2,
    };
    await slowClient.restartJob('abort-job', overrides);
    const done = await waitTerminal(slowClient, slowClock, 'abort-job');
    expect(done.state.state).toBe('completed');
    expect(done.job?.restartParametersOverride).toEqual([overrides]);
    const restartAgain = await slowApi('POST', `${BP}/jobs/abort-job/restart`);
    expect(restartAgain.status).toBe(409);
  });
});

describe('job webhooks', () => {
  it('delivers the job notification with the bearer header, redelivering on non-2xx', async () => {
    const hook = await webhookReceiver([500, 503]);
    try {
      await stageShards(client, 'hook-in', [images('h', 1)]);
      await client.startJob(
        'hook-job',
        imageJobBody('hook-in', {}, { notificationsURL: hook.url }) as JobBody,
      );
      // Until the sender has seen the third answer too (the receiver records a request before answering).
      const settled = () => hook.received.length >= 3 && em.state().webhooks.pending === 0;
      await clock.runUntil(() => (settled() ? true : undefined), {
        timeoutMs: 15_000,
        what: 'three deliveries',
      });
      expect(hook.received.map((h) => h.body.delivery_attempt)).toEqual([1, 2, 3]);
      for (const h of hook.received) {
        expect(h.headers.authorization).toBe('Bearer rf_local');
        expect(JobNotification.parse(h.body)).toMatchObject({
          type: 'roboflow-batch-job-notification-v1',
          job_id: 'hook-job',
          job_state: 'success',
        });
      }
      expect(new Set(hook.received.map((h) => h.body.event_id)).size).toBe(1);
      expect(em.state().webhooks.delivered).toBeGreaterThanOrEqual(1);
    } finally {
      await hook.close();
    }
  });

  it('reports job_state fail for a failed job', async () => {
    const hook = await webhookReceiver();
    try {
      await stageShards(client, 'hook-fail-in', [
        Array.from({ length: 12 }, (_, i) => ({ name: `x${i}.png`, data: Buffer.from('junk') })),
      ]);
      await client.startJob(
        'hook-fail',
        imageJobBody('hook-fail-in', {}, { notificationsURL: hook.url }) as JobBody,
      );
      await clock.runUntil(() => (hook.received.length >= 1 ? true : undefined), {
        timeoutMs: 15_000,
        what: 'delivery',
      });
      expect(hook.received[0]?.body).toMatchObject({
        job_id: 'hook-fail',
        job_state: 'fail',
        delivery_attempt: 1,
      });
    } finally {
      await hook.close();
    }
  });
});

describe('listing errors', () => {
  it('answers 404 for unknown jobs on every job endpoint', async () => {
    for (const [method, path] of [
      ['GET', ''],
      ['GET', '/stages'],
      ['GET', '/logs'],
      ['POST', '/abort'],
      ['POST', '/restart'],
    ] as const) {
      const res = await api(method, `${BP}/jobs/ghost${path}`);
      expect(res.status).toBe(404);
      expect(res.body.error).toMatch(/ghost/);
    }
    expect((await api('GET', `${BP}/jobs`, { query: { pageSize: 'x' } })).status).toBe(400);
    expect((await api('GET', `${DS}/batches/ghost-processing`)).status).toBe(404);
  });
});
