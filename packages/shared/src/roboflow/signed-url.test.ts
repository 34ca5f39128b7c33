import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, ErrorCode } from '../errors.js';
import { describeSignedUrl, downloadToFile, uploadToSignedUrl } from './signed-url.js';
import { json, startTestServer, type TestServer } from '@rfbatch/testkit/api-server';
import { secretFreeRejection } from '@rfbatch/testkit/secret-checks';

const SIGNATURE = 'c0ffee5ignature1234567890abcdef';
let server: TestServer;
let dir: string;
const signed = (path: string) =>
  `${server.url}${path}?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=svc%40proj&X-Goog-Expires=900&X-Goog-Signature=${SIGNATURE}`;

const failure = (promise: Promise<unknown>) => secretFreeRejection(promise, [SIGNATURE, 'X-Goog-Credential']);

beforeAll(async () => {
  server = await startTestServer();
  dir = await mkdtemp(join(tmpdir(), 'rfb-signed-'));
});
afterEach(() => {
  server.requests.length = 0;
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('describeSignedUrl', () => {
  it('keeps origin and path, never the query', () => {
    expect(describeSignedUrl('https://storage.googleapis.com/b/o.tar?X-Goog-Signature=abc&x=1')).toBe(
      'https://storage.googleapis.com/b/o.tar?<redacted>',
    );
    expect(describeSignedUrl('https://h.test/p')).toBe('https://h.test/p');
    expect(describeSignedUrl('not a url ?sig=abc')).toBe('<an unreadable URL>');
  });
});

describe('uploadToSignedUrl', () => {
  it('PUTs the exact bytes with Content-Length and every extension header, reporting progress', async () => {
    server.handle((_req, res) => {
      res.writeHead(200);
      res.end();
    });
    const data = Buffer.alloc(256 * 1024 + 3, 9);
    let progress = 0;
    await uploadToSignedUrl(
      {
        uploadURL: signed('/bucket/shard-1.tar'),
        extensionHeaders: { 'x-goog-content-length-range': '0,1000000', 'x-goog-meta-run': 'r1' },
      },
      Readable.from([data.subarray(0, 1000), data.subarray(1000)]),
      data.length,
      { onProgress: (n) => (progress += n) },
    );
    const req = server.requests[0];
    expect(req?.method).toBe('PUT');
    expect(req?.path).toBe('/bucket/shard-1.tar');
    expect(req?.query.get('X-Goog-Signature')).toBe(SIGNATURE);
    expect(req?.headers['content-length']).toBe(String(data.length));
    expect(req?.headers['x-goog-content-length-range']).toBe('0,1000000');
    expect(req?.headers['x-goog-meta-run']).toBe('r1');
    expect(req?.headers['transfer-encoding']).toBeUndefined();
    expect(req?.body.equals(data)).toBe(true);
    expect(progress).toBe(data.length);
  });

  it('uses details.method when given', async () => {
    server.handle((_req, res) => json(res, 201, {}));
    await uploadToSignedUrl(
      { uploadURL: signed('/v.mp4'), extensionHeaders: {}, method: 'post' },
      Readable.from([Buffer.from('abc')]),
      3,
    );
    expect(server.requests[0]?.method).toBe('POST');
  });

  it("an expired URL (403) is an upload ApiError with the store's status and words, not retryable", async () => {
    server.handle((_req, res) => {
      res.writeHead(403, { 'content-type': 'application/xml' });
      res.end(
        `<?xml version="1.0"?><Error><Code>ExpiredToken</Code><Message>Invalid argument.</Message><Details>${signed('/b/o.tar')}</Details></Error>`,
      );
    });
    const error = await failure(
      uploadToSignedUrl(
        { uploadURL: signed('/b/o.tar'), extensionHeaders: {} },
        Readable.from([Buffer.from('x')]),
        1,
      ),
    );
    expect(error).toBeInstanceOf(ApiError);
    expect(error.code).toBe(ErrorCode.upload);
    expect(error.status).toBe(403);
    expect(error.retryable).toBe(false);
    expect(error.message).toBe(
      `PUT ${server.url}/b/o.tar?<redacted> answered 403: ExpiredToken: Invalid argument.`,
    );
    expect(error.hint).toContain('fresh URL');
  });

  it('a 503 from the store is retryable', async () => {
    server.handle((_req, res) => json(res, 503, { error: 'slow down' }));
    const error = await failure(
      uploadToSignedUrl(
        { uploadURL: signed('/b/o.tar'), extensionHeaders: {} },
        Readable.from([Buffer.from('x')]),
        1,
      ),
    );
    expect(error.status).toBe(503);
    expect(error.retryable).toBe(true);
  });

  it('a connection reset is a retryable upload error without the URL query', async () => {
    server.handle((_req, res) => {
      res.socket?.destroy();
    });
    const error = await failure(
      uploadToSignedUrl(
        { uploadURL: signed('/b/o.tar'), extensionHeaders: {} },
        Readable.from([Buffer.from('xyz')]),
        3,
      ),
    );
    expect(error.code).toBe(ErrorCode.upload);
    expect(error.retryable).toBe(true);
    expect(error.message).toContain(`PUT ${server.url}/b/o.tar?<redacted> failed`);
  });

  it('a body shorter than the announced length is refused', async () => {
    server.handle((_req, res) => json(res, 200, {}));
    const error = await failure(
      uploadToSignedUrl(
        { uploadURL: signed('/b/o.tar'), extensionHeaders: {} },
        Readable.from([Buffer.from('ab')]),
        5,
      ),
    );
    expect(error.code).toBe(ErrorCode.upload);
    expect(error.retryable).toBe(false);
  });
});

describe('downloadToFile', () => {
  it('streams to <dest>.part, checks the length, renames', async () => {
    const data = Buffer.alloc(300_000, 4);
    server.handle((_req, res) => {
      res.writeHead(200, { 'content-length': String(data.length), 'content-type': 'application/gzip' });
      res.end(data);
    });
    const dest = join(dir, 'nested', 'a.tar.gz');
    let progress = 0;
    const bytes = await downloadToFile(signed('/out/a.tar.gz'), dest, {
      expectedBytes: data.length,
      onProgress: (n) => (progress += n),
    });
    expect(bytes).toBe(data.length);
    expect(progress).toBe(data.length);
    expect((await readFile(dest)).equals(data)).toBe(true);
    expect(existsSync(`${dest}.part`)).toBe(false);
  });

  it('works without Content-Length (chunked)', async () => {
    server.handle((_req, res) => {
      res.writeHead(200);
      res.write('hello ');
      res.end('world');
    });
    const dest = join(dir, 'chunked.jsonl');
    expect(await downloadToFile(signed('/out/c.jsonl'), dest)).toBe(11);
    expect(await readFile(dest, 'utf8')).toBe('hello world');
  });

  it.each([403, 404, 410])(
    '%i is a non-retryable ApiError with that status, and leaves no file',
    async (status) => {
      server.handle((_req, res) => {
        res.writeHead(status, { 'content-type': 'application/xml' });
        res.end('<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>');
      });
      const dest = join(dir, `gone-${status}.bin`);
      const error = await failure(downloadToFile(signed('/out/gone.bin'), dest));
      expect(error).toBeInstanceOf(ApiError);
      expect(error.code).toBe(ErrorCode.download);
      expect(error.status).toBe(status);
      expect(error.retryable).toBe(false);
      expect(error.message).toBe(
        `GET ${server.url}/out/gone.bin?<redacted> answered ${status}: AccessDenied: Request has expired`,
      );
      expect(existsSync(dest)).toBe(false);
      expect(existsSync(`${dest}.part`)).toBe(false);
    },
  );

  it('a body cut short of Content-Length is retryable and leaves no file', async () => {
    server.handle((_req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write(Buffer.alloc(400));
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const dest = join(dir, 'short.bin');
    const error = await failure(downloadToFile(signed('/out/short.bin'), dest));
    expect(error.code).toBe(ErrorCode.download);
    expect(error.retryable).toBe(true);
    expect(existsSync(dest)).toBe(false);
    expect(existsSync(`${dest}.part`)).toBe(false);
  });

  it('a length other than expectedBytes is refused', async () => {
    server.handle((_req, res) => {
      res.writeHead(200, { 'content-length': '5' });
      res.end('12345');
    });
    const dest = join(dir, 'other.bin');
    const error = await failure(downloadToFile(signed('/out/other.bin'), dest, { expectedBytes: 6 }));
    expect(error.message).toBe(
      `GET ${server.url}/out/other.bin?<redacted> announces 5 bytes, but 6 were expected`,
    );
    expect(existsSync(dest)).toBe(false);
  });

  it('without Content-Length, expectedBytes is checked after the body', async () => {
    server.handle((_req, res) => {
      res.writeHead(200);
      res.end('1234');
    });
    const dest = join(dir, 'chunked-short.bin');
    const error = await failure(downloadToFile(signed('/out/cs.bin'), dest, { expectedBytes: 9 }));
    expect(error.message).toBe(`GET ${server.url}/out/cs.bin?<redacted> ended after 4 of 9 bytes`);
    expect((await readdir(dir)).filter((f) => f.startsWith('chunked-short'))).toEqual([]);
  });

  it('a refused connection is a retryable download error', async () => {
    const closed = await startTestServer();
    const url = `${closed.url}/x?sig=${SIGNATURE}`;
    await closed.close();
    const error = await failure(downloadToFile(url, join(dir, 'refused.bin')));
    expect(error.code).toBe(ErrorCode.download);
    expect(error.retryable).toBe(true);
  });
});
