/** Batch expiry (deleted data, tombstones, the sweeper) and the causal faults: memory limit and machine time. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createRoboflowClient,
  uploadToSignedUrl,
  type ClosableRoboflowClient,
  type JobBody,
} from '@rfbatch/shared';
import { startEmulator, type Emulator } from './index.js';
import { ManualClock } from './manual-clock.js';
import { BP, DS, imageJobBody, rawApi } from '@rfbatch/testkit/emulator';
import { pngHeader } from '@rfbatch/testkit/images';
import { makeTar } from '@rfbatch/testkit/tars';
import { waitFor } from '@rfbatch/testkit/wait-for';

const clock = new ManualClock();
let em: Emulator;
let api: ReturnType<typeof rawApi>;
let client: ClosableRoboflowClient;

beforeAll(async () => {
  em = await startEmulator({ indexingDelayMs: 0, processingMsPerItem: 0, jobStartDelayMs: 5, clock });
  api = rawApi(em.url);
  client = createRoboflowClient({ apiUrl: em.url, apiKey: 'test-key', retry: { maxAttempts: 1 } });
});
afterAll(async () => {
  await client.close();
  await em.close();
});
afterEach(() => {
  em.setFaults({ memoryLimitWorkers: null, machineSecondsPerItem: null, jobFailure: null });
});

async function stage(batchId: string, n: number): Promise<void> {
  const tar = await makeTar(
    Array.from({ length: n }, (_, i) => ({ name: `${batchId}-${i}.png`, data: pngHeader(10 + i, 10) })),
  );
  await uploadToSignedUrl(await client.requestShardUploadUrl(batchId), Readable.from([tar]), tar.length);
  await waitFor(
    async () => ((await client.countBatch(batchId)) === n ? true : undefined),
    10_000,
    `${batchId} indexed`,
  );
}

async function terminal(jobId: string) {
  return clock.runUntil(
    async () => {
      const r = await client.getJob(jobId);
      return r.job?.isTerminal ? r : undefined;
    },
    { timeoutMs: 20_000, what: `job ${jobId} to end` },
  );
}

const errorLogs = async (jobId: string) => {
  const out: { logType: string; payload: Record<string, unknown> }[] = [];
  for await (const log of client.listLogs(jobId, { severity: 'error' })) out.push(log);
  return out;
};

describe('batch expiry', () => {
  it('expires a batch at once: its data is gone, a 404 says it expired, and the id can be used again', async () => {
    await stage('exp-now', 3);
    expect(existsSync(join(em.dataDir, 'blobs', 'exp-now'))).toBe(true);
    const res = await api('POST', '/__emulator/batches/exp-now/expire');
    expect(res.body).toEqual({ batchId: 'exp-now', expired: true });
    const gone = await api('GET', `${DS}/batches/exp-now`);
    expect(gone.status).toBe(404);
    expect(gone.body.error).toMatch(/^batch "exp-now" expired on .* and its data was deleted/);
    expect((await api('GET', `${DS}/batches/exp-now/count`)).status).toBe(404);
    expect(existsSync(join(em.dataDir, 'blobs', 'exp-now'))).toBe(false);
    expect(em.state().batches.map((b) => b.batchId)).not.toContain('exp-now');
    expect(Object.keys(em.state().expired)).toContain('exp-now');
    expect((await api('POST', '/__emulator/batches/exp-now/expire')).status).toBe(404);

    await stage('exp-now', 2);
    expect(await client.countBatch('exp-now')).toBe(2);
    expect(Object.keys(em.state().expired)).not.toContain('exp-now');
  });

  it('moves an expiry date, deletes a batch whose date passes, and refuses a bad body', async () => {
    await stage('exp-move', 1);
    const soon = new Date(clock.now() + 3 * 3600_000);
    const moved = await api('POST', '/__emulator/batches/exp-move/expiry', {
      json: { expiryDate: soon.toISOString() },
    });
    expect(moved.body).toMatchObject({ expiryDate: soon.toISOString(), deleted: false });
    expect((await client.getBatch('exp-move')).expiryDate).toBe(soon.toISOString());
    expect((await api('POST', '/__emulator/batches/exp-move/expiry', { json: { in: 3 } })).status).toBe(400);

    // The sweeper deletes a batch once its expiry has passed.
    await api('POST', '/__emulator/batches/exp-move/expiry', { json: { expiresInS: 0.2 } });
    await clock.advance(199);
    expect(em.state().expired['exp-move']).toBeUndefined();
    await clock.runUntil(() => (em.state().expired['exp-move'] ? true : undefined), {
      timeoutMs: 10_000,
      what: 'the sweeper',
    });
    expect((await api('GET', `${DS}/batches/exp-move`)).status).toBe(404);

    await stage('exp-past', 1);
    expect(await em.setBatchExpiry('exp-past', new Date(clock.now() - 1000))).toBeNull();
    expect((await api('GET', `${DS}/batches/exp-past`)).status).toBe(404);
  });

  it('fails a restarted job whose input expired with an input-error log, and refuses a new job on it', async () => {
    await stage('exp-input', 4);
    em.setFaults({ jobFailure: 'workflow-error' });
    await client.startJob('exp-job', imageJobBody('exp-input') as JobBody);
    expect((await terminal('exp-job')).state.state).toBe('failed');
    em.setFaults({ jobFailure: null });
    await em.expireBatch('exp-input');
    await client.restartJob('exp-job');
    const failed = await terminal('exp-job');
    expect(failed.job?.lastNotification).toMatchObject({ reason: 'input-error' });
    const input = (await errorLogs('exp-job')).find((l) => l.logType === 'input-error');
    expect(input?.payload.message).toMatch(
      /Input data of task processing-00001 is gone: shard .* has expired or was deleted/,
    );
    const again = await api('POST', `${BP}/jobs/exp-job-2`, { json: imageJobBody('exp-input') });
    expect(again.status).toBe(404);
    expect(again.body.error).toMatch(/^input batch "exp-input" expired on/);
  });
});

describe('causal faults', () => {
  it('runs cpu machines out of memory above memoryLimitWorkers; a restart with fewer workers completes', async () => {
    await stage('oom-in', 3);
    em.setFaults({ memoryLimitWorkers: 2 });
    const body = imageJobBody('oom-in');
    body.computeConfiguration.workersPerMachine = 4;
    await client.startJob('oom-job', body as JobBody);
    expect((await terminal('oom-job')).job?.lastNotification).toMatchObject({ reason: 'oom' });
    const oom = (await errorLogs('oom-job')).find((l) => l.logType === 'worker-oom');
    expect(oom?.payload.message).toMatch(
      /out of memory \(OOMKilled, exit code 137\) — 4 workers per machine on a cpu machine/,
    );
    await client.restartJob('oom-job', {
      type: 'parameters-override-v1',
      computeConfiguration: { type: 'compute-configuration-v2', workersPerMachine: 1 },
    });
    expect((await terminal('oom-job')).state.state).toBe('completed');

    // GPU machines have room for any number of workers.
    const gpu = imageJobBody('oom-in');
    gpu.computeConfiguration = { type: 'compute-configuration-v2', machineType: 'gpu', workersPerMachine: 8 };
    await client.startJob('oom-gpu', gpu as JobBody);
    expect((await terminal('oom-gpu')).state.state).toBe('completed');
  });

  it('counts machineSecondsPerItem against processingTimeoutSeconds; a restart with a larger budget completes', async () => {
    await stage('slow-in', 40);
    em.setFaults({ machineSecondsPerItem: 2 });
    await client.startJob(
      'slow-job',
      imageJobBody('slow-in', {}, { processingTimeoutSeconds: 60 }) as JobBody,
    );
    expect((await terminal('slow-job')).job?.lastNotification).toMatchObject({ reason: 'timeout' });
    const timeout = (await errorLogs('slow-job')).find((l) => l.logType === 'processing-timeout');
    expect(timeout?.payload).toMatchObject({ imagesProcessed: 31 });
    await client.restartJob('slow-job', { type: 'parameters-override-v1', processingTimeoutSeconds: 7200 });
    expect((await terminal('slow-job')).state.state).toBe('completed');
  });

  it('logs the failed images of an injected image-failures fault by name', async () => {
    await stage('imgfail-in', 3);
    em.setFaults({ jobFailure: 'image-failures' });
    await client.startJob('imgfail-job', imageJobBody('imgfail-in') as JobBody);
    await terminal('imgfail-job');
    const warned: string[] = [];
    for await (const log of client.listLogs('imgfail-job', { severity: 'warning' })) {
      if (log.logType === 'image-failed') warned.push(String(log.payload.fileName));
    }
    expect(warned.sort()).toEqual(['imgfail-in-0.png', 'imgfail-in-1.png', 'imgfail-in-2.png']);
  });
});
