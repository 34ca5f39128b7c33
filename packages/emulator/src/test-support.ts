/** Helpers for the emulator's own tests (and anyone who needs tiny valid images or a tar in a test). */
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import tar from 'tar-stream';

/** A PNG signature + IHDR chunk: enough for header decoding (not a viewable image). */
export function pngHeader(width: number, height: number, extraBytes = 16): Buffer {
  const b = Buffer.alloc(33 + extraBytes);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(b, 0);
  b.writeUInt32BE(13, 8);
  b.write('IHDR', 12, 'latin1');
  b.writeUInt32BE(width, 16);
  b.writeUInt32BE(height, 20);
  b[24] = 8;
  b[25] = 2;
  for (let i = 33; i < b.length; i++) b[i] = (i * 31 + width) & 0xff;
  return b;
}

/** SOI, an APP0 segment, then SOF0 with the size. */
export function jpegHeader(width: number, height: number): Buffer {
  const app0 = Buffer.from([
    0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00,
    0x00,
  ]);
  const sof = Buffer.from([
    0xff,
    0xc0,
    0x00,
    0x11,
    0x08,
    height >> 8,
    height & 0xff,
    width >> 8,
    width & 0xff,
    0x03,
    1,
    0x22,
    0,
    2,
    0x11,
    1,
    3,
    0x11,
    1,
  ]);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), app0, sof, Buffer.from([0xff, 0xd9])]);
}

export function bmpHeader(width: number, height: number): Buffer {
  const b = Buffer.alloc(54);
  b.write('BM', 0, 'latin1');
  b.writeUInt32LE(54, 2);
  b.writeUInt32LE(54, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(width, 18);
  b.writeInt32LE(-height, 22);
  return b;
}

/** A RIFF/WEBP file with a VP8X chunk. */
export function webpHeader(width: number, height: number): Buffer {
  const b = Buffer.alloc(30);
  b.write('RIFF', 0, 'latin1');
  b.writeUInt32LE(22, 4);
  b.write('WEBP', 8, 'latin1');
  b.write('VP8X', 12, 'latin1');
  b.writeUInt32LE(10, 16);
  b.writeUIntLE(width - 1, 24, 3);
  b.writeUIntLE(height - 1, 27, 3);
  return b;
}

export interface TarMember {
  name: string;
  data?: Buffer;
  type?: 'file' | 'symlink' | 'directory';
  linkname?: string;
}

export async function makeTar(members: TarMember[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer);
  })();
  for (const m of members) {
    await new Promise<void>((resolve, reject) => {
      const header = {
        name: m.name,
        type: m.type ?? 'file',
        ...(m.linkname ? { linkname: m.linkname } : {}),
      };
      if (m.data) pack.entry({ ...header, size: m.data.length }, m.data, (e) => (e ? reject(e) : resolve()));
      else pack.entry({ ...header, size: 0 }, (e) => (e ? reject(e) : resolve())).end(undefined);
    });
  }
  pack.finalize();
  await collected;
  return Buffer.concat(chunks);
}

/** Lists a tar's members (name, type, size) and their content. */
export async function readTar(
  buf: Buffer,
): Promise<{ name: string; type: string; size: number; linkname: string | null; data: Buffer }[]> {
  const extract = tar.extract();
  const out: { name: string; type: string; size: number; linkname: string | null; data: Buffer }[] = [];
  const done = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      out.push({
        name: entry.header.name,
        type: entry.header.type,
        size: entry.header.size,
        linkname: entry.header.linkname ?? null,
        data: Buffer.concat(chunks),
      });
    }
  })();
  extract.end(buf);
  await done;
  return out;
}

export interface ReceivedHook {
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** A local webhook receiver; `statuses` are answered in turn (then 200). */
export async function webhookReceiver(
  statuses: number[] = [],
): Promise<{ url: string; received: ReceivedHook[]; close: () => Promise<void>; server: Server }> {
  const received: ReceivedHook[] = [];
  const queue = [...statuses];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
      });
      res.statusCode = queue.shift() ?? 200;
      res.end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    server,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Polls `fn` until it returns a value other than undefined (or throws after `timeoutMs`). */
export async function waitFor<T>(
  fn: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface RawResponse {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON
  body: any;
  text: string;
}

/** Plain HTTP against the emulator (for exact status codes, shapes and error bodies). */
export function rawApi(baseUrl: string, apiKey: string | null = 'test-key') {
  return async function call(
    method: string,
    path: string,
    opts: {
      query?: Record<string, string | number>;
      json?: unknown;
      body?: RequestInit['body'];
      headers?: Record<string, string>;
    } = {},
  ): Promise<RawResponse> {
    const url = new URL(path, baseUrl);
    if (apiKey !== null) url.searchParams.set('api_key', apiKey);
    for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, String(v));
    const res = await fetch(url, {
      method,
      headers: {
        ...(opts.json !== undefined ? { 'content-type': 'application/json' } : {}),
        ...opts.headers,
      },
      ...(opts.json !== undefined
        ? { body: JSON.stringify(opts.json) }
        : opts.body !== undefined
          ? { body: opts.body }
          : {}),
    });
    const text = await res.text();
    let body: unknown = undefined;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    return { status: res.status, headers: res.headers, body, text };
  };
}

export const DS = '/data-staging/v1/external/local';
export const BP = '/batch-processing/v1/external/local';

/** A valid image job body for `batchId`. */
export function imageJobBody(
  batchId: string,
  spec: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
) {
  return {
    type: 'simple-image-processing-v1',
    jobInput: { type: 'staging-batch-input-v1', batchId },
    computeConfiguration: { type: 'compute-configuration-v2', machineType: 'cpu', workersPerMachine: 1 },
    processingSpecification: {
      type: 'workflows-processing-specification-v1',
      workspace: 'local',
      workflowId: 'detect-things',
      ...spec,
    },
    ...extra,
  };
}
