/** Contract tests of the Data Staging API (roboflow-api.md §1–§2, §5) through real HTTP. */
import { Readable } from 'node:stream';
import { connect } from 'node:net';
import { createServer } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BatchMetadata,
  createRoboflowClient,
  ListShardsResponse,
  ListFilesResponse,
  SignedUrlResponse,
  uploadToSignedUrl,
  type ClosableRoboflowClient,
} from '@rfbatch/shared';
import { startEmulator, type Emulator } from './index.js';
import { ManualClock } from './manual-clock.js';
import { DS, rawApi, webhookReceiver } from '@rfbatch/testkit/emulator';
import { jpegHeader, pngHeader, webpHeader, bmpHeader } from '@rfbatch/testkit/images';
import { makeTar } from '@rfbatch/testkit/tars';
import { waitFor } from '@rfbatch/testkit/wait-for';

let em: Emulator;
let api: ReturnType<typeof rawApi>;
let client: ClosableRoboflowClient;

beforeAll(async () => {
  em = await startEmulator({
    apiKeys: ['test-key'],
    indexingDelayMs: 0,
    processingMsPerItem: 0,
    webhookRetryBaseMs: 10,
  });
  api = rawApi(em.url);
  client = createRoboflowClient({ apiUrl: em.url, apiKey: 'test-key', retry: { maxAttempts: 1 } });
});
afterAll(async () => {
  await client.close();
  await em.close();
});

async function putShard(batchId: string, tar: Buffer, displayName?: string): Promise<void> {
  const details = await client.requestShardUploadUrl(batchId, displayName ? { displayName } : {});
  await uploadToSignedUrl(details, Readable.from([tar]), tar.length);
}

describe('public URL', () => {
  it('signs URLs for the public origin, and they work when sent to the bound address', async () => {
    const behind = await startEmulator({ publicUrl: 'http://emulator.internal:9000/', indexingDelayMs: 0 });
    const c = createRoboflowClient({ apiUrl: behind.url, apiKey: 'k', retry: { maxAttempts: 1 } });
    try {
      expect(behind.publicUrl).toBe('http://emulator.internal:9000');
      const details = await c.requestShardUploadUrl('public-url');
      const signed = new URL(details.uploadURL);
      expect(signed.origin).toBe('http://emulator.internal:9000');
      // A proxy or a container name would route it here: the signature covers the path, not the host.
      const tar = await makeTar([{ name: 'a.png', data: pngHeader(4, 4) }]);
      await uploadToSignedUrl(
        { ...details, uploadURL: `${behind.url}${signed.pathname}${signed.search}` },
        Readable.from([tar]),
        tar.length,
      );
      expect(await waitFor(async () => ((await c.countBatch('public-url')) === 1 ? true : undefined))).toBe(
        true,
      );
    } finally {
      await c.close();
      await behind.close();
    }
  });

  it('refuses a public URL that is not an http(s) origin', async () => {
    await expect(startEmulator({ publicUrl: 'http://emulator:9000/api' })).rejects.toThrow(
      /origin, without a path/,
    );
    await expect(startEmulator({ publicUrl: 'emulator:9000' })).rejects.toThrow(/http\(s\) origin/);
  });
});

describe('workspace discovery and auth', () => {
  it('answers GET / with the workspace, through the shared client too', async () => {
    const res = await api('GET', '/');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ workspace: 'local' });
    expect(await client.workspace()).toBe('local');
  });

  it('refuses a missing or unknown key with 401 {error}', async () => {
    const missing = await rawApi(em.url, null)('GET', `${DS}/batches`);
    expect(missing.status).toBe(401);
    expect(missing.body.error).toMatch(/api_key/);
    const wrong = await rawApi(em.url, 'nope')('GET', '/');
    expect(wrong.status).toBe(401);
    expect(typeof wrong.body.error).toBe('string');
  });

  it('accepts any non-empty key when started without keys', async () => {
    const open = await startEmulator();
    try {
      expect((await rawApi(open.url, 'anything')('GET', '/')).body).toEqual({ workspace: 'local' });
      expect((await rawApi(open.url, '')('GET', '/')).status).toBe(401);
    } finally {
      await open.close();
    }
  });

  it('answers 404 for another workspace and 400 naming the rule for a bad batch id', async () => {
    const other = await api('GET', '/data-staging/v1/external/someone-else/batches');
    expect(other.status).toBe(404);
    expect(other.body.error).toMatch(/someone-else/);
    const bad = await api('POST', `${DS}/batches/Bad.Batch/bulk-upload/image-files`);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/batch_id/);
    expect(bad.body.error).toMatch(/a-z, 0-9/);
    const long = await api('GET', `${DS}/batches/${'a'.repeat(65)}`);
    expect(long.status).toBe(400);
  });

  it('answers unknown endpoints with 404 and wrong methods with 405', async () => {
    expect((await api('GET', '/nothing/here')).status).toBe(404);
    const wrong = await api('DELETE', `${DS}/batches`);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toContain('GET');
  });
});

describe('single-image uploads (simple-batch)', () => {
  it('stores one file part under the file name as field name (the official client) and under "file"', async () => {
    const png = pngHeader(64, 48);
    await client.uploadImage(
      'simple-1',
      'cat.png',
      { stream: () => Readable.from([png]), size: png.length },
      { displayName: 'Simple one' },
    );
    const form = new FormData();
    form.append('file', new Blob([jpegHeader(10, 10)]), 'dog.jpg');
    const res = await api('POST', `${DS}/batches/simple-1/upload/image`, {
      query: { fileName: 'dog.jpg' },
      body: form,
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
    const other = new FormData();
    other.append('anything-at-all', new Blob([webpHeader(5, 6)]), 'whatever');
    expect(
      (
        await api('POST', `${DS}/batches/simple-1/upload/image`, {
          query: { fileName: 'bird.webp' },
          body: other,
        })
      ).status,
    ).toBe(200);

    expect(await client.countBatch('simple-1')).toBe(3);
    const meta = await client.getBatch('simple-1');
    expect(meta).toMatchObject({
      batchId: 'simple-1',
      displayName: 'Simple one',
      batchType: 'simple-batch',
      batchContentType: 'images',
    });
    expect(meta.createdDate).toMatch(/Z$/);
    expect(Date.parse(meta.expiryDate) - Date.parse(meta.createdDate)).toBe(7 * 24 * 3600 * 1000);
    const files = [];
    for await (const f of client.listFiles('simple-1')) files.push(f);
    expect(files.map((f) => f.fileName).sort()).toEqual(['bird.webp', 'cat.png', 'dog.jpg']);
    const cat = files.find((f) => f.fileName === 'cat.png');
    const body = Buffer.from(await (await fetch(cat?.downloadURL ?? '')).arrayBuffer());
    expect(body.equals(png)).toBe(true);
  });

  it('replaces a re-uploaded file of the same name instead of counting it twice', async () => {
    const png = pngHeader(8, 8);
    for (let i = 0; i < 2; i++)
      await client.uploadImage('simple-retry', 'same.png', {
        stream: () => Readable.from([png]),
        size: png.length,
      });
    expect(await client.countBatch('simple-retry')).toBe(1);
  });

  it('refuses more than 20 MiB with file-size-limit-exceeded, and bodies without one file part', async () => {
    const form = new FormData();
    form.append('big.png', new Blob([Buffer.alloc(20 * 1024 * 1024 + 1)]), 'big.png');
    const big = await api('POST', `${DS}/batches/simple-big/upload/image`, {
      query: { fileName: 'big.png' },
      body: form,
    });
    expect(big.status).toBe(413);
    expect(big.body.error).toMatch(/file-size-limit-exceeded/);
    const none = new FormData();
    none.append('field', 'just text');
    const empty = await api('POST', `${DS}/batches/simple-big/upload/image`, {
      query: { fileName: 'x.png' },
      body: none,
    });
    expect(empty.status).toBe(400);
    expect(empty.body.error).toMatch(/no file part/);
    const notMultipart = await api('POST', `${DS}/batches/simple-big/upload/image`, {
      query: { fileName: 'x.png' },
      json: {},
    });
    expect(notMultipart.status).toBe(400);
    const noName = await api('POST', `${DS}/batches/simple-big/upload/image`, { body: form });
    expect(noName.status).toBe(400);
    expect(noName.body.error).toMatch(/fileName/);
    expect(await client.countBatch('simple-big')).toBe(0);
  });

  it('refuses to mix single and bulk uploads in one batch with 409 {error}', async () => {
    const png = pngHeader(8, 8);
    await client.uploadImage('mixed-a', 'a.png', { stream: () => Readable.from([png]), size: png.length });
    const toSimple = await api('POST', `${DS}/batches/mixed-a/bulk-upload/image-files`);
    expect(toSimple.status).toBe(409);
    expect(toSimple.body.error).toMatch(/simple-batch/);
    await putShard('mixed-b', await makeTar([{ name: 'a.png', data: png }]));
    const form = new FormData();
    form.append('a.png', new Blob([png]), 'a.png');
    const toSharded = await api('POST', `${DS}/batches/mixed-b/upload/image`, {
      query: { fileName: 'a.png' },
      body: form,
    });
    expect(toSharded.status).toBe(409);
    expect(toSharded.body.error).toMatch(/sharded-batch/);
  });
});

describe('videos', () => {
  it('issues a signed PUT URL with extension headers and stores the video', async () => {
    const res = await api('POST', `${DS}/batches/videos-1/upload/video`, { query: { fileName: 'clip.mp4' } });
    expect(res.status).toBe(200);
    const details = SignedUrlResponse.parse(res.body).signedURLDetails;
    expect(details.method).toBe('PUT');
    expect(new URL(details.uploadURL).origin).toBe(em.url);
    expect(Object.keys(details.extensionHeaders).length).toBeGreaterThan(0);
    const video = Buffer.alloc(300_000, 7);
    await uploadToSignedUrl(details, Readable.from([video]), video.length);
    expect(await client.countBatch('videos-1')).toBe(1);
    expect((await client.getBatch('videos-1')).batchContentType).toBe('videos');
    const files = [];
    for await (const f of client.listFiles('videos-1')) files.push(f);
    expect(files[0]).toMatchObject({ fileName: 'clip.mp4', contentType: 'video/mp4' });
  });
});

describe('tar shards (sharded-batch)', () => {
  it('counts images, reports non-images as failed files and honours notification_config.json', async () => {
    const hook = await webhookReceiver();
    try {
      const tar = await makeTar([
        { name: 'a.png', data: pngHeader(10, 20) },
        { name: 'b.jpg', data: jpegHeader(30, 40) },
        { name: 'c.bmp', data: bmpHeader(3, 4) },
        { name: 'readme.txt', data: Buffer.from('not an image') },
        { name: 'sub', type: 'directory' },
        {
          name: 'notification_config.json',
          data: Buffer.from(JSON.stringify({ ingestId: 'ing-1', notificationsURL: hook.url })),
        },
      ]);
      await putShard('sharded-1', tar, 'Sharded one');
      expect(await client.countBatch('sharded-1')).toBe(3);
      const meta = BatchMetadata.parse((await api('GET', `${DS}/batches/sharded-1`)).body.batch);
      expect(meta).toMatchObject({
        batchType: 'sharded-batch',
        displayName: 'Sharded one',
        batchContentType: 'images',
      });
      const shards = ListShardsResponse.parse((await api('GET', `${DS}/batches/sharded-1/shards`)).body);
      expect(shards.nextPageToken).toBeNull();
      expect(shards.shards).toHaveLength(1);
      const shard = shards.shards[0];
      expect(shard).toMatchObject({ shardObjectsCount: 3, statusType: 'warning' });
      expect(JSON.stringify(shard?.statusMetadata)).toContain('readme.txt');
      await waitFor(() => (hook.received.length >= 2 ? true : undefined), 10_000, 'two notifications');
      for (const h of hook.received) {
        expect(h.headers.authorization).toBe('Bearer rf_local');
        expect(h.body).toMatchObject({
          type: 'roboflow-data-staging-notification-v1',
          ingest_id: 'ing-1',
          batch_id: 'sharded-1',
          delivery_attempt: 1,
        });
      }
      const files = hook.received.find(
        (h) => (h.body.notification as { type: string }).type === 'ingest-files-status-notification-v1',
      );
      expect(files?.body.shard_id).toBe(shard?.shardId);
      expect(files?.body.notification).toMatchObject({
        success: false,
        ingested_files: ['a.png', 'b.jpg', 'c.bmp'],
        failed_files: [{ type: 'unsupported-file-type', file_name: 'readme.txt' }],
        content_truncated: false,
      });
      const status = hook.received.find(
        (h) => (h.body.notification as { type: string }).type === 'ingest-status-notification-v1',
      );
      expect(status?.body).toMatchObject({ shard_id: null, notification: { success: true } });
    } finally {
      await hook.close();
    }
  });

  it('pages the file listing across shards with nextPageToken null on the last page', async () => {
    for (let s = 0; s < 2; s++) {
      await putShard(
        'sharded-pages',
        await makeTar([0, 1, 2].map((i) => ({ name: `s${s}-${i}.png`, data: pngHeader(5 + i, 5) }))),
      );
    }
    const names: string[] = [];
    let token: string | null = null;
    let pages = 0;
    do {
      const res = await api('GET', `${DS}/batches/sharded-pages/list`, {
        query: { pageSize: 4, ...(token ? { nextPageToken: token } : {}) },
      });
      const parsed = ListFilesResponse.parse(res.body);
      expect('nextPageToken' in res.body).toBe(true);
      names.push(...parsed.filesMetadata.map((f) => f.fileName));
      for (const f of parsed.filesMetadata) expect(f.shardId).toMatch(/^shard-/);
      token = parsed.nextPageToken ?? null;
      pages++;
    } while (token);
    expect(pages).toBe(2);
    expect(names).toEqual(['s0-0.png', 's0-1.png', 's0-2.png', 's1-0.png', 's1-1.png', 's1-2.png']);
    const shardPage = await api('GET', `${DS}/batches/sharded-pages/shards`, { query: { pageSize: 1 } });
    expect(shardPage.body.shards).toHaveLength(1);
    expect(typeof shardPage.body.nextPageToken).toBe('string');
  });

  it('shows items only after the indexing delay', async () => {
    const clock = new ManualClock();
    const slow = await startEmulator({ indexingDelayMs: 1_500, clock });
    const slowClient = createRoboflowClient({ apiUrl: slow.url, apiKey: 'k', retry: { maxAttempts: 1 } });
    try {
      const details = await slowClient.requestShardUploadUrl('late');
      const tar = await makeTar([{ name: 'a.png', data: pngHeader(4, 4) }]);
      await uploadToSignedUrl(details, Readable.from([tar]), tar.length);
      expect(await slowClient.countBatch('late')).toBe(0);
      const shards = [];
      for await (const s of slowClient.listShards('late')) shards.push(s);
      expect(shards[0]).toMatchObject({ statusName: 'indexing', statusType: 'info', shardObjectsCount: 0 });
      await clock.advance(1_499);
      expect(await slowClient.countBatch('late')).toBe(0);
      await clock.advance(1);
      expect(await slowClient.countBatch('late')).toBe(1);
      const after = [];
      for await (const s of slowClient.listShards('late')) after.push(s);
      expect(after[0]).toMatchObject({ statusName: 'indexed', statusType: 'success', shardObjectsCount: 1 });
    } finally {
      await slowClient.close();
      await slow.close();
    }
  });

  it('marks a shard that is not a tar archive with an error status', async () => {
    const details = await client.requestShardUploadUrl('broken-tar');
    const junk = Buffer.alloc(2048, 0x41);
    await uploadToSignedUrl(details, Readable.from([junk]), junk.length);
    const shards = (await api('GET', `${DS}/batches/broken-tar/shards`)).body.shards;
    expect(shards[0].statusType).toBe('error');
    expect(await client.countBatch('broken-tar')).toBe(0);
  });
});

describe('signed URLs behave like a cloud store', () => {
  async function shardUrl(batchId: string, on = api) {
    return SignedUrlResponse.parse(
      (await on('POST', `${DS}/batches/${batchId}/bulk-upload/image-files`)).body,
    ).signedURLDetails;
  }

  it('refuses a wrong signature, a missing signed header, and a changed path with 403', async () => {
    const details = await shardUrl('signed-1');
    const tar = await makeTar([{ name: 'a.png', data: pngHeader(2, 2) }]);
    const tampered = new URL(details.uploadURL);
    tampered.searchParams.set('X-Goog-Signature', '0'.repeat(64));
    const bad = await fetch(tampered, { method: 'PUT', headers: details.extensionHeaders, body: tar });
    expect(bad.status).toBe(403);
    expect(await bad.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
    const noHeaders = await fetch(details.uploadURL, { method: 'PUT', body: tar });
    expect(noHeaders.status).toBe(403);
    expect(await noHeaders.text()).toMatch(/missing signed header/);
    const moved = details.uploadURL.replace('/_storage/upload/u-', '/_storage/upload/x-');
    expect((await fetch(moved, { method: 'PUT', headers: details.extensionHeaders, body: tar })).status).toBe(
      403,
    );
    const unsigned = new URL(details.uploadURL);
    unsigned.search = '';
    expect(
      (await fetch(unsigned, { method: 'PUT', headers: details.extensionHeaders, body: tar })).status,
    ).toBe(403);
    expect(await client.countBatch('signed-1')).toBe(0);
  });

  it('refuses an expired URL with 403 ExpiredToken', async () => {
    const clock = new ManualClock();
    const timed = await startEmulator({ apiKeys: ['test-key'], clock });
    try {
      timed.setFaults({ signedUrlTtlS: 1 });
      const details = await shardUrl('signed-expired', rawApi(timed.url));
      expect(new URL(details.uploadURL).searchParams.get('X-Goog-Expires')).toBe('1');
      await clock.advance(2_100);
      const res = await fetch(details.uploadURL, {
        method: 'PUT',
        headers: details.extensionHeaders,
        body: Buffer.alloc(10),
      });
      expect(res.status).toBe(403);
      expect(await res.text()).toContain('ExpiredToken');
    } finally {
      await timed.close();
    }
  });

  it('requires Content-Length (411) and keeps nothing of an aborted or overlong upload', async () => {
    const details = await shardUrl('signed-length');
    const tar = await makeTar([{ name: 'a.png', data: pngHeader(2, 2) }]);
    const chunked = await fetch(details.uploadURL, {
      method: 'PUT',
      headers: details.extensionHeaders,
      body: Readable.toWeb(Readable.from([tar])) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(411);

    // Declares more bytes than it sends, then hangs up.
    const url = new URL(details.uploadURL);
    const head = (length: number) =>
      `PUT ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n` +
      Object.entries(details.extensionHeaders)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('') +
      `Content-Length: ${length}\r\n\r\n`;
    const short = connect(Number(url.port), url.hostname);
    await once(short, 'connect');
    short.resume();
    short.write(head(tar.length + 100));
    short.write(tar);
    short.end();
    await once(short, 'close');

    // Sends more bytes than it declares: the excess is refused by the HTTP parser.
    const long = connect(Number(url.port), url.hostname);
    await once(long, 'connect');
    let answer = '';
    long.on('data', (c: Buffer) => (answer += c.toString('latin1')));
    long.write(Buffer.concat([Buffer.from(head(tar.length - 512)), tar]));
    await once(long, 'close');
    expect(answer).toMatch(/^HTTP\/1\.1 400/m);

    await new Promise((r) => setTimeout(r, 100));
    expect((await api('GET', `${DS}/batches/signed-length/shards`)).body.shards).toEqual([]);
  });

  it('serves downloads with Content-Length and ranges, and refuses tampered download URLs', async () => {
    const png = pngHeader(9, 9, 100);
    await putShard('signed-dl', await makeTar([{ name: 'x.png', data: png }]));
    const [file] = (await api('GET', `${DS}/batches/signed-dl/list`)).body.filesMetadata;
    const res = await fetch(file.downloadURL);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(png.length));
    expect(Buffer.from(await res.arrayBuffer()).equals(png)).toBe(true);
    const part = await fetch(file.downloadURL, { headers: { range: 'bytes=10-19' } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer()).equals(png.subarray(10, 20))).toBe(true);
    const tampered = new URL(file.downloadURL);
    tampered.searchParams.set('X-Goog-Expires', '999999');
    expect((await fetch(tampered)).status).toBe(403);
    expect((await fetch(file.downloadURL, { method: 'PUT', body: 'x' })).status).toBe(405);
  });
});

describe('batch listing, metadata and parts', () => {
  it('lists batches page by page', async () => {
    const fresh = await startEmulator();
    const call = rawApi(fresh.url);
    try {
      for (const id of ['p-1', 'p-2', 'p-3'])
        await call('POST', `${DS}/batches/${id}/bulk-upload/image-files`);
      const first = await call('GET', `${DS}/batches`, { query: { pageSize: 2 } });
      expect(first.body.batches).toHaveLength(2);
      for (const b of first.body.batches) BatchMetadata.parse(b);
      const second = await call('GET', `${DS}/batches`, {
        query: { pageSize: 2, nextPageToken: first.body.nextPageToken },
      });
      expect(second.body.batches).toHaveLength(1);
      expect(second.body.nextPageToken).toBeNull();
      const ids = [...first.body.batches, ...second.body.batches]
        .map((b: { batchId: string }) => b.batchId)
        .sort();
      expect(ids).toEqual(['p-1', 'p-2', 'p-3']);
      expect((await call('GET', `${DS}/batches`, { query: { nextPageToken: 'garbage' } })).status).toBe(400);
      expect((await call('GET', `${DS}/batches`, { query: { pageSize: 0 } })).status).toBe(400);
    } finally {
      await fresh.close();
    }
  });

  it('answers 404 {error} for an unknown batch and 400 for partName on a non-multipart batch', async () => {
    for (const path of ['', '/count', '/shards', '/parts', '/list']) {
      const res = await api('GET', `${DS}/batches/no-such-batch${path}`);
      expect(res.status).toBe(404);
      expect(res.body.error).toMatch(/no-such-batch/);
    }
    expect((await api('GET', `${DS}/batches/simple-1/parts`)).body).toEqual({ status: 'ok', batchParts: [] });
    const part = await api('GET', `${DS}/batches/simple-1/count`, { query: { partName: 'results' } });
    expect(part.status).toBe(400);
  });

  it('answers roboql-ingest with 501', async () => {
    expect((await api('POST', `${DS}/batches/roboql/roboql-ingest`, { json: { query: 'x' } })).status).toBe(
      501,
    );
  });
});

describe('references ingests', () => {
  let server: ReturnType<typeof createServer>;
  let base: string;
  const images: Record<string, Buffer> = {
    '/a.png': pngHeader(11, 12),
    '/b.jpg': jpegHeader(13, 14),
    '/c.webp': webpHeader(15, 16),
  };

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/refs.jsonl') {
        res.end(
          Object.keys(images)
            .map((p) => JSON.stringify({ name: `f${p.slice(1)}`, url: `${base}${p}` }))
            .join('\n'),
        );
        return;
      }
      const body = images[req.url ?? ''];
      res.statusCode = body ? 200 : 404;
      res.end(body ?? 'missing');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('fetches inline references, returns shard ids, dedupes a repeated ingestId', async () => {
    const body = {
      imageReferences: [
        { name: 'a.png', url: `${base}/a.png` },
        { name: 'b.jpg', url: `${base}/b.jpg` },
      ],
      ingestId: 'refs-1',
    };
    const first = await client.ingestImageReferences('refs-inline', body);
    expect(first.ingestId).toBe('refs-1');
    expect(first.shardIds).toHaveLength(1);
    expect(first.duplicated).toBe(false);
    await waitFor(
      async () => ((await client.countBatch('refs-inline')) === 2 ? true : undefined),
      10_000,
      'references indexed',
    );
    const again = await client.ingestImageReferences('refs-inline', body);
    expect(again).toMatchObject({ ingestId: 'refs-1', shardIds: first.shardIds, duplicated: true });
    expect((await client.getBatch('refs-inline')).batchType).toBe('sharded-batch');
    const noId = { imageReferences: [{ name: 'c.webp', url: `${base}/c.webp` }] };
    const r1 = await client.ingestImageReferences('refs-inline', noId);
    const r2 = await client.ingestImageReferences('refs-inline', noId);
    expect(r2).toMatchObject({ ingestId: r1.ingestId, duplicated: true });
  });

  it('reads a JSONL references file from a URL', async () => {
    const res = await client.ingestImageReferences('refs-file', { imageReferencesURL: `${base}/refs.jsonl` });
    expect(res.shardIds).toHaveLength(1);
    await waitFor(
      async () => ((await client.countBatch('refs-file')) === 3 ? true : undefined),
      10_000,
      'file references indexed',
    );
    const names = [];
    for await (const f of client.listFiles('refs-file')) names.push(f.fileName);
    expect(names.sort()).toEqual(['fa.png', 'fb.jpg', 'fc.webp']);
  });

  it('refuses non-loopback URLs with unsafe-url-detected and notifies per category', async () => {
    const hook = await webhookReceiver();
    try {
      const res = await client.ingestImageReferences('refs-unsafe', {
        imageReferences: [
          { name: 'ok.png', url: `${base}/a.png` },
          { name: 'far.png', url: 'https://storage.example.com/far.png' },
          { name: 'gone.png', url: `${base}/missing.png` },
        ],
        ingestId: 'unsafe-1',
        notificationsURL: hook.url,
        notificationCategories: ['ingest-status', 'files-status'],
      });
      expect(res.ingestId).toBe('unsafe-1');
      await waitFor(() => (hook.received.length >= 2 ? true : undefined), 10_000, 'notifications');
      const files = hook.received.find(
        (h) => (h.body.notification as { type: string }).type === 'ingest-files-status-notification-v1',
      );
      expect(files?.body.notification).toMatchObject({ success: false, ingested_files: ['ok.png'] });
      const failed = (files?.body.notification as { failed_files: { type: string; file_name: string }[] })
        .failed_files;
      expect(failed).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ type: 'unsafe-url-detected', file_name: 'far.png' }),
          expect.objectContaining({ type: 'download-failed', file_name: 'gone.png' }),
        ]),
      );
      const status = hook.received.find(
        (h) => (h.body.notification as { type: string }).type === 'ingest-status-notification-v1',
      );
      expect(status?.body).toMatchObject({
        ingest_id: 'unsafe-1',
        shard_id: null,
        notification: { success: false, error_details: { type: 'unsafe-url-detected' } },
      });
      expect(await client.countBatch('refs-unsafe')).toBe(1);
      const unsafeFile = await api('POST', `${DS}/batches/refs-unsafe-2/bulk-upload/image-references`, {
        json: { imageReferencesURL: 'https://example.com/refs.jsonl' },
      });
      expect(unsafeFile.status).toBe(400);
      expect(unsafeFile.body.error).toMatch(/unsafe-url-detected/);
    } finally {
      await hook.close();
    }
  });

  it('ingests video references without shard ids in the answer, and validates bodies', async () => {
    const res = await api('POST', `${DS}/batches/refs-video/bulk-upload/video-references`, {
      json: { videoReferences: [{ name: 'v.mp4', url: `${base}/a.png` }] },
    });
    expect(res.status).toBe(200);
    expect(res.body.ingestId).toEqual(expect.any(String));
    expect(res.body.shardIds).toBeUndefined();
    await waitFor(
      async () => ((await client.countBatch('refs-video')) === 1 ? true : undefined),
      10_000,
      'video indexed',
    );
    expect(
      (await api('POST', `${DS}/batches/refs-bad/bulk-upload/image-references`, { json: { nothing: true } }))
        .status,
    ).toBe(400);
    expect(
      (
        await api('POST', `${DS}/batches/refs-bad/bulk-upload/image-references`, {
          json: { imageReferences: [] },
        })
      ).status,
    ).toBe(400);
  });
});
