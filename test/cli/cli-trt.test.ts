/**
 * `rfbatch jobs trt-compile` against the emulator: the exact `POST /jobs/{id}` the official
 * `trt-compile` sends (a `trt-compilation-v1` body, `name` in the query), the `--json` output with the
 * notifications URL redacted, and the emulator running the job to its end (one compilation task per
 * device, the job webhook to the user's URL).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '@rfbatch/emulator';
import { createRoboflowClient, type ClosableRoboflowClient } from '@rfbatch/shared';
import { rawApi, webhookReceiver } from '@rfbatch/testkit/emulator';
import { waitFor } from '@rfbatch/testkit/wait-for';
import { cli } from './cli-harness.js';

const BP = '/batch-processing/v1/external/local';

let emulator: Emulator;
let client: ClosableRoboflowClient;
let hooks: Awaited<ReturnType<typeof webhookReceiver>>;
let env: Record<string, string>;

const posts = () =>
  emulator
    .requests()
    .filter((r) => r.method === 'POST')
    .map((r) => ({ method: r.method, path: r.path, query: r.query, body: r.body }));
const ended = (jobId: string) =>
  waitFor(
    async () => ((await client.getJob(jobId)).state.terminal ? true : undefined),
    20_000,
    `${jobId} to end`,
  );

beforeAll(async () => {
  emulator = await startEmulator({ jobStartDelayMs: 0, processingMsPerItem: 1, webhookRetryBaseMs: 10 });
  client = createRoboflowClient({ apiUrl: emulator.url, apiKey: 'trt-key', workspace: 'local' });
  hooks = await webhookReceiver();
  env = { ROBOFLOW_API_URL: emulator.url, ROBOFLOW_API_KEY: 'trt-key', LOG_LEVEL: 'error' };
});
afterAll(async () => {
  await client.close();
  await hooks.close();
  await emulator.close();
});
beforeEach(() => emulator.clearRequests());

describe('jobs trt-compile', () => {
  it('sends the official trt-compilation-v1 body; the emulator compiles per device and calls the user webhook', async () => {
    const hookUrl = `${hooks.url}?token=s3cret-hook-token`;
    const r = await cli(
      [
        'jobs',
        'trt-compile',
        '--model-id',
        'my-project/3',
        '--device',
        'nvidia-l4',
        '--device',
        'nvidia-l40s',
        '--job-id',
        'trt-one',
        '--job-name',
        'nightly trt',
        '--notifications-url',
        hookUrl,
        '--json',
      ],
      env,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      jobId: 'trt-one',
      type: 'trt-compilation-v1',
      modelId: 'my-project/3',
      compilationDevices: ['nvidia-l4', 'nvidia-l40s'],
      notificationsURL: `http://${new URL(hooks.url).host}/<redacted>`,
    });
    expect(r.stdout + r.stderr).not.toContain('s3cret-hook-token');
    expect(posts()).toEqual([
      {
        method: 'POST',
        path: `${BP}/jobs/trt-one`,
        query: { name: 'nightly trt' },
        body: {
          type: 'trt-compilation-v1',
          modelId: 'my-project/3',
          compilationDevices: ['nvidia-l4', 'nvidia-l40s'],
          notificationsURL: hookUrl,
        },
      },
    ]);

    await ended('trt-one');
    const { job, state } = await client.getJob('trt-one');
    expect(state.state).toBe('completed');
    expect(job?.plannedStages).toEqual(['compilation']);
    const stages = await client.listStages('trt-one');
    expect(stages).toEqual([
      expect.objectContaining({
        processingStageName: 'compilation',
        tasksNumber: 2,
        outputBatches: [],
        statusType: 'success',
      }),
    ]);
    const tasks = [];
    for await (const t of client.listTasks('trt-one', 'compilation')) tasks.push(t);
    expect(tasks.map((t) => (t.notification as { device: string }).device)).toEqual([
      'nvidia-l4',
      'nvidia-l40s',
    ]);
    const hook = await waitFor(
      () => hooks.received.find((h) => h.body.job_id === 'trt-one'),
      10_000,
      'the job webhook',
    );
    expect(hook.body).toMatchObject({ type: 'roboflow-batch-job-notification-v1', job_state: 'success' });

    const shown = await cli(['jobs', 'show', 'trt-one', '--json'], env);
    expect(JSON.parse(shown.stdout)).toMatchObject({ jobId: 'trt-one', state: { state: 'completed' } });
  });

  it('without --device or --job-id: no compilationDevices (the server default), a trt- id of 12 characters', async () => {
    const r = await cli(['jobs', 'trt-compile', '-m', 'my-project/4', '--json'], env);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { jobId: string; compilationDevices: string[] };
    expect(out.jobId).toMatch(/^trt-[a-z0-9]{12}$/);
    expect(out.compilationDevices).toEqual(['nvidia-t4', 'nvidia-l4']);
    expect(posts()).toEqual([
      {
        method: 'POST',
        path: `${BP}/jobs/${out.jobId}`,
        query: {},
        body: { type: 'trt-compilation-v1', modelId: 'my-project/4' },
      },
    ]);
    await ended(out.jobId);
    const stages = await client.listStages(out.jobId);
    expect(stages[0]?.tasksNumber).toBe(2);
  });

  it('refuses an unknown device and a bad notifications URL before any request', async () => {
    const device = await cli(['jobs', 'trt-compile', '-m', 'p/1', '--device', 'nvidia-a100'], env);
    expect(device.code).toBe(2);
    expect(device.stderr).toContain('nvidia-a100');
    const url = await cli(
      ['jobs', 'trt-compile', '-m', 'p/1', '--notifications-url', 'ftp://x/y?token=abc'],
      env,
    );
    expect(url.code).toBe(2);
    expect(url.stderr).toContain('--notifications-url must be an http(s) URL');
    expect(url.stderr).not.toContain('token=abc');
    expect(posts()).toEqual([]);
  });

  it('the emulator refuses the old Swagger discriminator and unknown keys with 400', async () => {
    const api = rawApi(emulator.url, 'trt-key');
    const old = await api('POST', `${BP}/jobs/trt-old`, {
      json: { type: 'TRT_COMPILATION_V1', modelId: 'p/1' },
    });
    expect(old.status).toBe(400);
    const extra = await api('POST', `${BP}/jobs/trt-extra`, {
      json: { type: 'trt-compilation-v1', modelId: 'p/1', jobInput: {} },
    });
    expect(extra.status).toBe(400);
  });
});
