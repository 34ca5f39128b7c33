import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../errors.js';
import { json } from '@rfbatch/testkit/api-server';
import { DS, clientFixture } from '@rfbatch/testkit/roboflow-client';

const fx = clientFixture();
beforeAll(fx.start);
afterEach(fx.reset);
afterAll(fx.stop);
const { only, queryOf, failure, newClient } = fx;

describe('data staging endpoints', () => {
  it('requestVideoUploadUrl: POST upload/video with fileName and displayName', async () => {
    fx.server.handle((_req, res) =>
      json(res, 200, {
        status: 'ok',
        signedURLDetails: {
          uploadURL: 'https://store.test/v?sig=1',
          extensionHeaders: { 'x-goog-meta': 'a' },
        },
      }),
    );
    const details = await fx.client.requestVideoUploadUrl('vids', 'clip.mp4', { displayName: 'My videos' });
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
    fx.server.handle((_req, res) =>
      json(res, 200, { signedURLDetails: { uploadURL: 'https://store.test/v', extensionHeaders: {} } }),
    );
    await fx.client.requestVideoUploadUrl('vids', 'clip.mp4');
    expect(queryOf(only())).toEqual({ fileName: 'clip.mp4', displayName: 'vids' });
  });

  it('uploadImage: one multipart part named after the file, exact Content-Length, no part Content-Type', async () => {
    fx.server.handle((_req, res) => json(res, 200, { status: 'ok' }));
    const bytes = Buffer.from([0xff, 0xd8, 0xff, 0x00, 0x0d, 0x0a, 0x42]);
    await fx.client.uploadImage('imgs', 'cat 1.jpg', {
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
      fx.server.handle((_req, res) => (n++ === 0 ? json(res, 503, { error: 'busy' }) : json(res, 200, {})));
      await fx.client.uploadImage('imgs', 'big.png', {
        stream: () => createReadStream(file),
        size: data.length,
      });
      expect(fx.server.requests).toHaveLength(2);
      for (const req of fx.server.requests) {
        expect(req.body.length).toBe(Number(req.headers['content-length']));
        expect(req.body.includes(data)).toBe(true);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('uploadImage: a file whose size differs from the plan fails without a retry', async () => {
    fx.server.handle((_req, res) => json(res, 200, {}));
    const error = await failure(
      fx.client.uploadImage('imgs', 'a.jpg', { stream: () => Readable.from([Buffer.from('abc')]), size: 10 }),
    );
    expect(error.code).toBe(ErrorCode.source);
    expect(error.message).toBe('"a.jpg" has fewer bytes than the 10 planned');
    expect(error.retryable).toBe(false);
    expect(fx.server.requests.length).toBeLessThanOrEqual(1);
  });

  it('requestShardUploadUrl: POST bulk-upload/image-files with displayName and no body', async () => {
    fx.server.handle((_req, res) =>
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
    const details = await fx.client.requestShardUploadUrl('bulk', { displayName: 'Bulk' });
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
    fx.server.handle((_req, res) =>
      json(res, 200, { ingestId: 'ing-1', shardIds: ['s1', 's2'], duplicated: false }),
    );
    const body = {
      imageReferences: [{ name: 'a.jpg', url: 'https://bucket.test/a.jpg?sig=1' }],
      ingestId: 'ing-1',
      notificationsURL: 'https://hooks.test/x',
      notificationCategories: ['ingest-status' as const],
    };
    const res = await fx.client.ingestImageReferences('refs', body);
    const req = only();
    expect(req.method).toBe('POST');
    expect(req.path).toBe(`${DS}/batches/refs/bulk-upload/image-references`);
    expect(queryOf(req)).toEqual({ displayName: 'refs' });
    expect(req.headers['content-type']).toBe('application/json');
    expect(JSON.parse(req.body.toString())).toEqual(body);
    expect(res).toEqual({ ingestId: 'ing-1', shardIds: ['s1', 's2'], duplicated: false });
  });

  it('ingestImageReferences: the references-URL form', async () => {
    fx.server.handle((_req, res) => json(res, 200, { ingestId: 'generated', duplicated: true }));
    const res = await fx.client.ingestImageReferences(
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
    fx.server.handle((_req, res) => json(res, 200, { status: 'ok', ingestId: 'v-1' }));
    const body = { videoReferences: [{ name: 'a.mp4', url: 'https://bucket.test/a.mp4' }] };
    const res = await fx.client.ingestVideoReferences('vrefs', body);
    const req = only();
    expect(req.method).toBe('POST');
    expect(req.path).toBe(`${DS}/batches/vrefs/bulk-upload/video-references`);
    expect(JSON.parse(req.body.toString())).toEqual(body);
    expect(res).toEqual({ status: 'ok', ingestId: 'v-1' });
  });

  it('the references ingests get twice the request timeout', async () => {
    const slow = newClient({ requestTimeoutMs: 150, retry: { maxAttempts: 1 } });
    fx.server.handle(() => {}); // never answers
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
});
