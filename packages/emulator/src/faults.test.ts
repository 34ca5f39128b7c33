/** Every fault mode, through flags-equivalent options and the control endpoint. */
import { Readable } from 'node:stream';
import { gunzipSync, createGunzip } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import tar from 'tar-stream';
import {
  createRoboflowClient,
  uploadToSignedUrl,
  type ClosableRoboflowClient,
  type JobBody,
} from '@rfbatch/shared';
import { startEmulator, type Emulator } from './index.js';
import { ManualClock } from './manual-clock.js';
import { BP, DS, imageJobBody, rawApi, webhookReceiver } from '@rfbatch/testkit/emulator';
import { pngHeader } from '@rfbatch/testkit/images';
import { makeTar, readTar } from '@rfbatch/testkit/tars';
import { waitFor } from '@rfbatch/testkit/wait-for';

let em: Emulator;
let api: ReturnType<typeof rawApi>;
let client: ClosableRoboflowClient;

beforeAll(async () => {
  em = await startEmulator({
    indexingDelayMs: 0,
    processingMsPerItem: 0,
    jobStartDelayMs: 0,
    webhookRetryBaseMs: 10,
  });
  api = rawApi(em.url);
  client = createRoboflowClient({ apiUrl: em.url, apiKey: 'k', retry: { maxAttempts: 1 } });
  const png = pngHeader(4, 4);
  const shard = await makeTar([
    { name: 'a.png', data: png },
    { name: 'b.png', data: pngHeader(5, 5) },
  ]);
  await uploadToSignedUrl(
    await client.requestShardUploadUrl('fault-in'),
    Readable.from([shard]),
    shard.length,
  );
});
beforeEach(async () => {
  await api('DELETE', '/__emulator/faults');
});
afterAll(async () => {
  await client.close();
  await em.close();
});

describe('the control endpoint', () => {
  it('reads, merges, validates and resets faults', async () => {
    const initial = await api('GET', '/__emulator/faults');
    const defaults: unknown = initial.body;
    expect(initial.body).toMatchObject({
      rateLimitRate: 0,
      serverErrorRate: 0,
      jobFailure: null,
      dropWebhooks: false,
      firstN: null,
    });
    const set = await api('POST', '/__emulator/faults', { json: { rateLimitRate: 0.5, seed: 7 } });
    expect(set.body).toMatchObject({ rateLimitRate: 0.5, seed: 7, serverErrorRate: 0 });
    const merged = await api('POST', '/__emulator/faults', { json: { latencyMs: 5 } });
    expect(merged.body).toMatchObject({ rateLimitRate: 0.5, latencyMs: 5 });
    const invalid = await api('POST', '/__emulator/faults', { json: { rateLimitRate: 2 } });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error).toMatch(/rateLimitRate/);
    expect((await api('POST', '/__emulator/faults', { json: { noSuchFault: true } })).status).toBe(400);
    const replaced = await api('POST', '/__emulator/faults', {
      json: { dropWebhooks: true },
      query: { reset: 1 },
    });
    expect(replaced.body).toMatchObject({ rateLimitRate: 0, latencyMs: 0, dropWebhooks: true });
    expect((await api('DELETE', '/__emulator/faults')).body).toEqual(defaults);
    const state = await api('GET', '/__emulator/state');
    expect(state.body.batches.find((b: { batchId: string }) => b.batchId === 'fault-in')).toMatchObject({
      count: 2,
      batchType: 'sharded-batch',
    });
  });
});

describe('HTTP faults', () => {
  it('answers 429 with Retry-After, only under pathPrefix and only for the first N', async () => {
    em.setFaults({ rateLimitRate: 1, retryAfterS: 3, pathPrefix: '/batch-processing/', firstN: 2 });
    expect((await api('GET', `${DS}/batches`)).status).toBe(200);
    const statuses = [];
    for (let i = 0; i < 3; i++) {
      const res = await api('GET', `${BP}/jobs`);
      statuses.push(res.status);
      if (res.status === 429) expect(res.headers.get('retry-after')).toBe('3');
    }
    expect(statuses).toEqual([429, 429, 200]);
    expect((await api('GET', '/__emulator/state')).status).toBe(200);
  });

  it('answers 5xx from the configured statuses, the same sequence for the same seed', async () => {
    em.setFaults({ serverErrorRate: 1, serverErrorStatuses: [503] });
    const res = await api('GET', `${DS}/batches`);
    expect(res.status).toBe(503);
    expect(res.body.error).toMatch(/injected/);
    const run = async () => {
      em.setFaults({ serverErrorRate: 0.5, serverErrorStatuses: [500, 502, 503, 504], seed: 42 });
      const out = [];
      for (let i = 0; i < 12; i++) out.push((await api('GET', '/')).status);
      return out;
    };
    const first = await run();
    expect(await run()).toEqual(first);
    expect(new Set(first).size).toBeGreaterThan(1);
  });

  it('lets the shared client survive retryable faults', async () => {
    const retrying = createRoboflowClient({
      apiUrl: em.url,
      apiKey: 'k',
      retry: { maxAttempts: 4, baseDelayMs: 1 },
    });
    try {
      em.setFaults({ serverErrorRate: 1, serverErrorStatuses: [503], firstN: 2 });
      expect(await retrying.countBatch('fault-in')).toBe(2);
    } finally {
      await retrying.close();
    }
  });

  it('adds latency', async () => {
    const clock = new ManualClock();
    const delayed = await startEmulator({ clock });
    try {
      delayed.setFaults({ latencyMs: 150 });
      const started = clock.now();
      expect((await clock.settle(rawApi(delayed.url)('GET', '/'))).status).toBe(200);
      expect(clock.now() - started).toBeGreaterThanOrEqual(140);
    } finally {
      await delayed.close();
    }
  });

  it('resets connections: at once, mid-upload, and mid-download', async () => {
    em.setFaults({ resetRate: 1, pathPrefix: '/data-staging/', firstN: 1 });
    await expect(api('GET', `${DS}/batches`)).rejects.toThrow();

    const details = await client.requestShardUploadUrl('reset-upload');
    const shard = await makeTar([{ name: 'r.png', data: pngHeader(3, 3, 200_000) }]);
    em.setFaults({ resetRate: 1, pathPrefix: '/_storage/upload/', firstN: 1 });
    await expect(uploadToSignedUrl(details, Readable.from([shard]), shard.length)).rejects.toThrow();
    expect((await api('GET', `${DS}/batches/reset-upload/shards`)).body.shards).toEqual([]);
    await uploadToSignedUrl(details, Readable.from([shard]), shard.length); // the same URL works on the next try
    expect(await client.countBatch('reset-upload')).toBe(1);

    const [file] = (await api('GET', `${DS}/batches/reset-upload/list`)).body.filesMetadata;
    em.setFaults({ resetRate: 1, pathPrefix: '/_storage/object/', firstN: 1 });
    const res = await fetch(file.downloadURL);
    expect(res.headers.get('content-length')).toBe('200033'); // the image: 33 header bytes + 200 000
    await expect(res.arrayBuffer()).rejects.toThrow();
    expect((await fetch(file.downloadURL)).status).toBe(200);
  });
});

describe('staging faults', () => {
  it('shortens signed URL lifetimes', async () => {
    em.setFaults({ signedUrlTtlS: 5 });
    const details = await client.requestShardUploadUrl('ttl');
    expect(new URL(details.uploadURL).searchParams.get('X-Goog-Expires')).toBe('5');
  });

  it('slows indexing', async () => {
    const clock = new ManualClock();
    const slow = await startEmulator({ indexingDelayMs: 0, clock });
    const slowClient = createRoboflowClient({ apiUrl: slow.url, apiKey: 'k', retry: { maxAttempts: 1 } });
    try {
      slow.setFaults({ slowIndexingMs: 60_000 });
      const shard = await makeTar([{ name: 'slow.png', data: pngHeader(3, 3) }]);
      await uploadToSignedUrl(
        await slowClient.requestShardUploadUrl('slow-index'),
        Readable.from([shard]),
        shard.length,
      );
      await clock.advance(59_999);
      expect(await slowClient.countBatch('slow-index')).toBe(0);
      expect((await rawApi(slow.url)('GET', `${DS}/batches/slow-index/shards`)).body.shards[0]).toMatchObject(
        {
          statusName: 'indexing',
          statusType: 'info',
        },
      );
      await clock.advance(1);
      expect(await slowClient.countBatch('slow-index')).toBe(1);
    } finally {
      await slowClient.close();
      await slow.close();
    }
  });

  it('puts shards in an error status and reports their files as failed', async () => {
    const hook = await webhookReceiver();
    try {
      em.setFaults({ shardErrorRate: 1 });
      const shard = await makeTar([
        { name: 'e.png', data: pngHeader(3, 3) },
        {
          name: 'notification_config.json',
          data: Buffer.from(JSON.stringify({ ingestId: 'err-1', notificationsURL: hook.url })),
        },
      ]);
      await uploadToSignedUrl(
        await client.requestShardUploadUrl('shard-error'),
        Readable.from([shard]),
        shard.length,
      );
      const [status] = (await api('GET', `${DS}/batches/shard-error/shards`)).body.shards;
      expect(status).toMatchObject({ statusType: 'error', shardObjectsCount: 0 });
      expect(await client.countBatch('shard-error')).toBe(0);
      await waitFor(() => (hook.received.length >= 2 ? true : undefined), 10_000, 'notifications');
      const files = hook.received.find(
        (h) => (h.body.notification as { type: string }).type === 'ingest-files-status-notification-v1',
      );
      expect(files?.body.notification).toMatchObject({
        success: false,
        ingested_files: [],
        failed_files: [{ file_name: 'e.png' }],
      });
      const ingest = hook.received.find(
        (h) => (h.body.notification as { type: string }).type === 'ingest-status-notification-v1',
      );
      expect(ingest?.body.notification).toMatchObject({
        success: false,
        error_details: { type: 'shard-processing-error' },
      });
    } finally {
      await hook.close();
    }
  });
});

describe('job faults', () => {
  const cases = [
    ['oom', 'worker-oom', /out of memory \(OOMKilled/],
    ['timeout', 'processing-timeout', /Processing timeout/],
    ['image-failures', 'image-failures', /2 of 2 images failed/],
    ['workflow-error', 'workflow-error', /Workflow execution failed/],
  ] as const;

  for (const [reason, logType, message] of cases) {
    it(`fails a job for reason ${reason} with a matching error log, and a restart without the fault succeeds`, async () => {
      em.setFaults({ jobFailure: reason });
      const jobId = `fail-${reason}`.slice(0, 20);
      await client.startJob(jobId, imageJobBody('fault-in') as JobBody);
      const failed = await waitFor(async () => {
        const r = await client.getJob(jobId);
        return r.job?.isTerminal ? r : undefined;
      });
      expect(failed.state.state).toBe('failed');
      expect(failed.job?.lastNotification).toMatchObject({ type: 'job-failed', reason });
      const logs = (await api('GET', `${BP}/jobs/${jobId}/logs`, { query: { severity: 'error' } })).body.logs;
      const log = logs.find((l: { logType: string }) => l.logType === logType);
      expect(log?.payload.message).toMatch(message);
      const tasks = (await api('GET', `${BP}/jobs/${jobId}/stages/processing/tasks`)).body.tasks;
      expect(tasks[0]).toMatchObject({ statusType: 'error' });
      em.setFaults({ jobFailure: null });
      await client.restartJob(jobId);
      const done = await waitFor(async () => {
        const r = await client.getJob(jobId);
        return r.job?.isTerminal ? r : undefined;
      });
      expect(done.state.state).toBe('completed');
    });
  }

  it('answers 402 on batch-processing endpoints when payment is required', async () => {
    em.setFaults({ paymentRequired: true });
    const res = await api('POST', `${BP}/jobs/pay-1`, { json: imageJobBody('fault-in') });
    expect(res.status).toBe(402);
    expect(res.body.error).toMatch(/not enabled/);
    expect((await api('GET', `${BP}/jobs`)).status).toBe(402);
    expect((await api('GET', `${DS}/batches`)).status).toBe(200);
  });

  it('drops webhooks', async () => {
    const hook = await webhookReceiver();
    try {
      em.setFaults({ dropWebhooks: true });
      const dropped = em.state().webhooks.dropped;
      await client.startJob(
        'no-hook',
        imageJobBody('fault-in', {}, { notificationsURL: hook.url }) as JobBody,
      );
      await waitFor(async () => ((await client.getJob('no-hook')).job?.isTerminal ? true : undefined));
      expect(em.state().webhooks.dropped).toBe(dropped + 1);
      expect(hook.received).toEqual([]);
    } finally {
      await hook.close();
    }
  });
});

describe('malicious export archives', () => {
  async function firstArchive(jobId: string): Promise<string> {
    await waitFor(async () => ((await client.getJob(jobId)).job?.isTerminal ? true : undefined), 30_000);
    const files = (await api('GET', `${DS}/batches/${jobId}-export/list`)).body.filesMetadata;
    return files.find((f: { fileName: string }) => f.fileName === 'export-00001.tar.gz').downloadURL;
  }

  for (const [kind, check] of [
    ['traversal', (m: { name: string }) => m.name === '../../rfbatch-escape.txt'],
    ['absolute', (m: { name: string }) => m.name === '/tmp/rfbatch-absolute.txt'],
    [
      'symlink',
      (m: { type: string; linkname: string | null }) => m.type === 'symlink' && m.linkname === '/etc/passwd',
    ],
  ] as const) {
    it(`adds a ${kind} member to the first archive`, async () => {
      em.setFaults({ maliciousExport: kind });
      await client.startJob(`evil-${kind}`, imageJobBody('fault-in') as JobBody);
      const url = await firstArchive(`evil-${kind}`);
      const members = await readTar(gunzipSync(Buffer.from(await (await fetch(url)).arrayBuffer())));
      expect(members.some((m) => check(m as never))).toBe(true);
      expect(members.some((m) => m.name === 'processing-00001.jsonl')).toBe(true);
    });
  }

  it('adds a decompression bomb (a small archive claiming 512 MiB)', async () => {
    em.setFaults({ maliciousExport: 'bomb' });
    await client.startJob('evil-bomb', imageJobBody('fault-in') as JobBody);
    const url = await firstArchive('evil-bomb');
    const gz = Buffer.from(await (await fetch(url)).arrayBuffer());
    expect(gz.length).toBeLessThan(5 * 1024 * 1024);
    // Read only the first header; never inflate the whole thing.
    const extract = tar.extract();
    const first = new Promise<{ name: string; size: number }>((resolve) => {
      extract.on('entry', (header) => {
        resolve({ name: header.name, size: header.size });
        extract.destroy();
      });
    });
    const gunzip = createGunzip();
    gunzip.on('data', (c: Buffer) => extract.write(c));
    gunzip.on('error', () => undefined);
    extract.on('error', () => undefined);
    gunzip.end(gz);
    const header = await first;
    gunzip.destroy();
    expect(header).toEqual({ name: 'bomb.bin', size: 512 * 1024 * 1024 });
  });
});

describe('bandwidth throttle', () => {
  it('caps signed-URL downloads and uploads per connection', async () => {
    const clock = new ManualClock();
    const slow = await startEmulator({ indexingDelayMs: 0, throttleBytesPerSecond: 200_000, clock });
    const slowClient = createRoboflowClient({ apiUrl: slow.url, apiKey: 'k', retry: { maxAttempts: 1 } });
    try {
      const shard = await makeTar([{ name: 'big.png', data: pngHeader(2, 2, 100_000) }]);
      const details = await slowClient.requestShardUploadUrl('throttled');
      let started = clock.now();
      await clock.settle(uploadToSignedUrl(details, Readable.from([shard]), shard.length));
      expect(clock.now() - started).toBeGreaterThanOrEqual(400); // ~104 kB at 200 kB/s
      const [file] = (await rawApi(slow.url, 'k')('GET', `${DS}/batches/throttled/list`)).body.filesMetadata;
      started = clock.now();
      const body = await clock.settle(fetch(file.downloadURL).then((res) => res.arrayBuffer()));
      expect(body.byteLength).toBe(100_033);
      expect(clock.now() - started).toBeGreaterThanOrEqual(400);
    } finally {
      await slowClient.close();
      await slow.close();
    }
  });
});
