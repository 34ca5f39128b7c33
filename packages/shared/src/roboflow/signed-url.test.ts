import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, ErrorCode } from '../errors.js';
import { describeSignedUrl, downloadToFile, uploadToSignedUrl } from './signed-url.js';
import { streamDownload, type StreamedFile } from './download-stream.js';
import { ConnectionBudget, PART_TRIES } from './ranged-download.js';
import { json, startTestServer, type RecordedRequest, type TestServer } from '@rfbatch/testkit/api-server';
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

/** What a store that serves `Range` answers (`bytes=a-b` and `bytes=a-`); `part` may spoil a part. */
function serveRanges(
  data: Buffer,
  part?: (res: ServerResponse, start: number, end: number) => boolean,
): { handler: (req: RecordedRequest, res: ServerResponse) => void; open: () => number; most: () => number } {
  let open = 0;
  let most = 0;
  return {
    open: () => open,
    most: () => most,
    handler(req, res) {
      open++;
      most = Math.max(most, open);
      // Counted out when this side has sent its last byte (or the response closed early): 'close'
      // alone can come after the client, which has every byte, already opened its next request.
      let counted = true;
      const done = () => {
        if (counted) open--;
        counted = false;
      };
      res.once('close', done);
      res.once('finish', done);
      const m = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range ?? ''));
      if (!m) {
        res.writeHead(200, { 'content-length': String(data.length) });
        return void res.end(data);
      }
      const start = Number(m[1]);
      const end = m[2] ? Math.min(Number(m[2]), data.length - 1) : data.length - 1;
      if (start > end) {
        res.writeHead(416, { 'content-range': `bytes */${data.length}` });
        return void res.end();
      }
      if (start > 0 && part?.(res, start, end)) return;
      res.writeHead(206, {
        'content-length': String(end - start + 1),
        'content-range': `bytes ${start}-${end}/${data.length}`,
      });
      // In slices with pauses, so the parts are in flight together.
      const body = data.subarray(start, end + 1);
      let at = 0;
      const next = () => {
        if (res.destroyed) return;
        if (at >= body.length) return void res.end();
        res.write(body.subarray(at, (at += 64 * 1024)));
        setTimeout(next, 1);
      };
      next();
    },
  };
}

/** A store whose first `times` GETs of the first part other connections ask for are cut after 1,000 bytes. */
function cutPart(data: Buffer, times: number) {
  let victim: number | undefined;
  let cuts = 0;
  const store = serveRanges(data, (res, start, end) => {
    victim ??= start;
    if (start !== victim || cuts >= times) return false;
    cuts++;
    res.writeHead(206, {
      'content-length': String(end - start + 1),
      'content-range': `bytes ${start}-${end}/${data.length}`,
    });
    res.write(data.subarray(start, start + 1000));
    setTimeout(() => res.socket?.destroy(), 20);
    return true;
  });
  /** How many times each range was asked for (the first stream's `bytes=0-` included). */
  const asked = () => {
    const n = new Map<string, number>();
    for (const r of server.requests) {
      const range = String(r.headers.range ?? '');
      n.set(range, (n.get(range) ?? 0) + 1);
    }
    return n;
  };
  return { handler: store.handler, cuts: () => cuts, victim: () => victim, asked };
}

const RANGED = { connections: 4, minBytes: 1024 * 1024, partBytes: 512 * 1024, probeMs: 0 };
const rangesAsked = () =>
  server.requests.map((r) => String(r.headers.range ?? '')).filter((r) => r && r !== 'bytes=0-');

describe('downloadToFile over ranged GETs', () => {
  it('fetches a large file in parts over at most `connections` GETs at once, byte for byte', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 123);
    const store = serveRanges(data);
    server.handle(store.handler);
    const dest = join(dir, 'ranged', 'big.tar.gz');
    let progress = 0;
    const bytes = await downloadToFile(signed('/out/big.tar.gz'), dest, {
      range: RANGED,
      onProgress: (n) => (progress += n),
    });
    expect(bytes).toBe(data.length);
    expect(progress).toBe(data.length);
    expect((await readFile(dest)).equals(data)).toBe(true);
    expect(server.requests[0]?.headers.range).toBe('bytes=0-');
    // 512 KiB parts: the other three connections took parts from the back.
    expect(rangesAsked().length).toBeGreaterThanOrEqual(3);
    for (const r of rangesAsked()) expect(r).toMatch(/^bytes=\d+-\d+$/);
    expect(store.most()).toBeLessThanOrEqual(4);
    expect(store.most()).toBeGreaterThan(1);
    expect((await readdir(join(dir, 'ranged'))).sort()).toEqual(['big.tar.gz']);
  });

  it('a file under minBytes, and one without a free connection in the limiter, stay on one GET', async () => {
    const data = randomBytes(2 * 1024 * 1024);
    server.handle(serveRanges(data).handler);
    const small = join(dir, 'ranged-small.bin');
    await downloadToFile(signed('/out/s.bin'), small, { range: { ...RANGED, minBytes: 4 * 1024 * 1024 } });
    expect((await readFile(small)).equals(data)).toBe(true);
    expect(server.requests).toHaveLength(1);

    server.requests.length = 0;
    const limited = join(dir, 'ranged-limited.bin');
    await downloadToFile(signed('/out/l.bin'), limited, {
      range: { ...RANGED, limiter: new ConnectionBudget(1) },
    });
    expect((await readFile(limited)).equals(data)).toBe(true);
    expect(server.requests).toHaveLength(1);
  });

  it('a first stream fast enough to finish within probeMs is left alone', async () => {
    const data = randomBytes(2 * 1024 * 1024);
    server.handle((_req, res) => {
      res.writeHead(206, {
        'content-length': String(data.length),
        'content-range': `bytes 0-${data.length - 1}/${data.length}`,
      });
      res.end(data);
    });
    const dest = join(dir, 'ranged-fast.bin');
    await downloadToFile(signed('/out/f.bin'), dest, { range: { ...RANGED, probeMs: 5_000 } });
    expect((await readFile(dest)).equals(data)).toBe(true);
    expect(server.requests).toHaveLength(1);
  });

  it('a server that ignores Range (200, the whole body) is read as one stream', async () => {
    const data = randomBytes(3 * 1024 * 1024);
    server.handle((_req, res) => {
      res.writeHead(200, { 'content-length': String(data.length) });
      res.end(data);
    });
    const dest = join(dir, 'no-ranges.bin');
    expect(
      await downloadToFile(signed('/out/nr.bin'), dest, { range: RANGED, expectedBytes: data.length }),
    ).toBe(data.length);
    expect((await readFile(dest)).equals(data)).toBe(true);
    expect(server.requests).toHaveLength(1);
  });

  it('an empty file (416 to bytes=0-) is fetched with a plain GET', async () => {
    server.handle(serveRanges(Buffer.alloc(0)).handler);
    const dest = join(dir, 'empty.bin');
    expect(await downloadToFile(signed('/out/e.bin'), dest, { range: RANGED })).toBe(0);
    expect(await readFile(dest)).toHaveLength(0);
    expect(server.requests.map((r) => r.headers.range)).toEqual(['bytes=0-', undefined]);
  });

  it('a part cut short is fetched again on its own: the file is whole, nothing else is fetched twice', async () => {
    const data = randomBytes(3 * 1024 * 1024);
    const store = cutPart(data, 1);
    server.handle(store.handler);
    const dest = join(dir, 'ranged-cut-once', 'cut.bin');
    let progress = 0;
    const bytes = await downloadToFile(signed('/out/cut.bin'), dest, {
      range: RANGED,
      onProgress: (n) => (progress += n),
    });
    expect(store.cuts()).toBe(1);
    expect(bytes).toBe(data.length);
    expect(progress).toBe(data.length);
    expect((await readFile(dest)).equals(data)).toBe(true);
    const asked = store.asked();
    const victim = [...asked.keys()].find((r) => r.startsWith(`bytes=${store.victim()}-`))!;
    expect(asked.get(victim)).toBe(2);
    for (const [range, n] of asked) if (range !== victim) expect(n, range).toBe(1);
  });

  it('a part cut short on every try is a retryable download error after PART_TRIES GETs, and leaves no file', async () => {
    const data = randomBytes(3 * 1024 * 1024);
    const store = cutPart(data, 1_000);
    server.handle(store.handler);
    const dest = join(dir, 'ranged-cut', 'cut.bin');
    const error = await failure(downloadToFile(signed('/out/cut.bin'), dest, { range: RANGED }));
    expect(store.cuts()).toBe(PART_TRIES);
    expect(error.code).toBe(ErrorCode.download);
    expect(error.retryable).toBe(true);
    expect(await readdir(join(dir, 'ranged-cut'))).toEqual([]);
  });

  it('a part answered with another range is a retryable error', async () => {
    const data = randomBytes(3 * 1024 * 1024);
    server.handle(
      serveRanges(data, (res, start, end) => {
        res.writeHead(206, {
          'content-length': String(end - start),
          'content-range': `bytes ${start + 1}-${end}/${data.length}`,
        });
        res.end(data.subarray(start + 1, end + 1));
        return true;
      }).handler,
    );
    const dest = join(dir, 'ranged-other', 'o.bin');
    const error = await failure(downloadToFile(signed('/out/o.bin'), dest, { range: RANGED }));
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(
      /^GET http:\/\/127\.0\.0\.1:\d+\/out\/o\.bin\?<redacted> answered Content-Range bytes \d+-\d+\/\d+ to Range bytes=\d+-\d+$/,
    );
    expect(await readdir(join(dir, 'ranged-other'))).toEqual([]);
  });

  it('a part refused with 403 is the non-retryable ApiError the caller relists on, and leaves no file', async () => {
    const data = randomBytes(3 * 1024 * 1024);
    server.handle(
      serveRanges(data, (res) => {
        res.writeHead(403, { 'content-type': 'application/xml' });
        res.end('<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>');
        return true;
      }).handler,
    );
    const dest = join(dir, 'ranged-403', 'x.bin');
    const error = await failure(downloadToFile(signed('/out/x.bin'), dest, { range: RANGED }));
    expect(error).toBeInstanceOf(ApiError);
    expect(error.code).toBe(ErrorCode.download);
    expect(error.status).toBe(403);
    expect(error.retryable).toBe(false);
    expect(error.message).toBe(
      `GET ${server.url}/out/x.bin?<redacted> answered 403: AccessDenied: Request has expired`,
    );
    expect(await readdir(join(dir, 'ranged-403'))).toEqual([]);
  });

  it('a limiter hands out at most its size, in order, and a waiting acquire can be cancelled', async () => {
    const budget = new ConnectionBudget(2);
    await budget.acquire();
    expect(budget.tryAcquire()).toBe(true);
    expect(budget.tryAcquire()).toBe(false);
    const order: string[] = [];
    const a = budget.acquire().then(() => order.push('a'));
    const controller = new AbortController();
    const b = budget.acquire(controller.signal).catch(() => order.push('b cancelled'));
    controller.abort();
    await b;
    budget.release();
    await a;
    expect(order).toEqual(['b cancelled', 'a']);
    expect(budget.tryAcquire()).toBe(false);
  });
});

/** Reads a streamed file to its end, slowly enough that extra connections join (like an extractor). */
async function collect(file: StreamedFile): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of file.body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('streamDownload', () => {
  it('hands the bytes over in order while other connections fetch parts from the back', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 77);
    const store = serveRanges(data);
    server.handle(store.handler);
    const spill = join(dir, 'stream', 'big.tar.gz');
    let progress = 0;
    const { value, bytes } = await streamDownload(
      signed('/out/big.tar.gz'),
      spill,
      { range: RANGED, onProgress: (n) => (progress += n) },
      collect,
    );
    expect(value.equals(data)).toBe(true);
    expect(bytes).toBe(data.length);
    expect(progress).toBe(data.length);
    expect(rangesAsked().length).toBeGreaterThanOrEqual(3);
    expect(store.most()).toBeLessThanOrEqual(4);
    expect(store.most()).toBeGreaterThan(1);
    // The parts the other connections fetched waited in a temp file, removed at the end.
    expect(await readdir(join(dir, 'stream'))).toEqual([]);
  });

  it('a fast first stream is the only connection and nothing touches the disk', async () => {
    const data = randomBytes(2 * 1024 * 1024);
    server.handle(serveRanges(data).handler);
    const spill = join(dir, 'stream-fast', 'f.bin');
    const { value } = await streamDownload(
      signed('/out/f.bin'),
      spill,
      { range: { ...RANGED, probeMs: 5_000 } },
      collect,
    );
    expect(value.equals(data)).toBe(true);
    expect(server.requests).toHaveLength(1);
    expect(existsSync(join(dir, 'stream-fast'))).toBe(false);
  });

  it('a part cut short is fetched again on its own, and the consumer gets the whole file in order', async () => {
    const data = randomBytes(3 * 1024 * 1024);
    const store = cutPart(data, 1);
    server.handle(store.handler);
    const done = await streamDownload(
      signed('/out/cut.bin'),
      join(dir, 'stream-cut-once', 'cut.bin'),
      { range: RANGED },
      collect,
    );
    expect(store.cuts()).toBe(1);
    expect(done.value.equals(data)).toBe(true);
    expect(done.bytes).toBe(data.length);
    const asked = store.asked();
    expect(asked.get('bytes=0-')).toBe(1);
    expect([...asked.values()].filter((n) => n === 2)).toHaveLength(1);
    expect(await readdir(join(dir, 'stream-cut-once'))).toEqual([]);
  });

  it('a part cut short on every try fails the stream (the consumer sees the error), retryable, leaving nothing', async () => {
    const data = randomBytes(3 * 1024 * 1024);
    const store = cutPart(data, 1_000);
    server.handle(store.handler);
    let consumerFailed = false;
    const error = await failure(
      streamDownload(signed('/out/cut.bin'), join(dir, 'stream-cut', 'cut.bin'), { range: RANGED }, (f) =>
        collect(f).catch((e: unknown) => {
          consumerFailed = true;
          throw e;
        }),
      ),
    );
    expect(store.cuts()).toBe(PART_TRIES);
    expect(consumerFailed).toBe(true);
    expect(error.code).toBe(ErrorCode.download);
    expect(error.retryable).toBe(true);
    expect(await readdir(join(dir, 'stream-cut'))).toEqual([]);
  });

  it('a body shorter than announced fails after its last byte, so a consumer never commits it', async () => {
    const data = randomBytes(64 * 1024);
    server.handle((_req, res) => {
      res.writeHead(200, { 'content-length': String(data.length) });
      res.write(data.subarray(0, 1000));
      setTimeout(() => res.socket?.destroy(), 20);
    });
    let committed = false;
    const error = await failure(
      streamDownload(signed('/out/short.bin'), join(dir, 'short.bin'), { range: RANGED }, async (f) => {
        await collect(f);
        committed = true;
      }),
    );
    expect(committed).toBe(false);
    expect(error.retryable).toBe(true);
  });

  it('a body longer than the size it announced is a retryable error', async () => {
    const data = randomBytes(10_000);
    server.handle((_req, res) => {
      // No Content-Length (chunked): only the Content-Range total says how long the file is.
      res.writeHead(206, { 'content-range': `bytes 0-4999/5000` });
      res.end(data);
    });
    const error = await failure(
      streamDownload(signed('/out/long.bin'), join(dir, 'long.bin'), { range: RANGED }, collect),
    );
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('sent more than the 5000 bytes it announced');
  });

  it('a part refused with 403 is the ApiError the caller relists on', async () => {
    const data = randomBytes(3 * 1024 * 1024);
    server.handle(
      serveRanges(data, (res) => {
        res.writeHead(403, { 'content-type': 'application/xml' });
        res.end('<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>');
        return true;
      }).handler,
    );
    const error = await failure(
      streamDownload(signed('/out/x.bin'), join(dir, 'stream-403', 'x.bin'), { range: RANGED }, collect),
    );
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(403);
    expect(await readdir(join(dir, 'stream-403'))).toEqual([]);
  });

  it('an empty file (416 to bytes=0-) is an empty stream', async () => {
    server.handle(serveRanges(Buffer.alloc(0)).handler);
    const { value, bytes } = await streamDownload(
      signed('/out/e.bin'),
      join(dir, 'e.bin'),
      { range: RANGED },
      collect,
    );
    expect(value).toHaveLength(0);
    expect(bytes).toBe(0);
  });
});
