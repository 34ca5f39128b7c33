/**
 * The object-store contract against real servers: s3rver (S3 API) and azurite (Azure Blob API), both
 * started here on loopback ports chosen at run time. Streamed paginated listings, ranged reads,
 * multipart writes that are complete or absent, presigned GETs that work without credentials (and,
 * where the server checks signatures, stop working when they expire), and errors a user can act on.
 */
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ObjectStoreError, listLocation, type ObjectStore } from '@rfbatch/object-store';
import { AzureStore, azureAccessFromEnv, S3Store, s3ClientFromEnv } from '@rfbatch/object-store/stores';
import { parseBucketUrl } from '@rfbatch/shared';
import { startAzurite, startS3Server, type ObjectServer } from '@rfbatch/testkit/object-servers';

interface Backend {
  name: string;
  start: () => Promise<ObjectServer>;
  open: (server: ObjectServer, bucket: string, env?: Record<string, string>) => ObjectStore;
  /** Whether the server refuses a presigned URL once it has expired. */
  checksExpiry: boolean;
}

const backends: Backend[] = [
  {
    name: 's3 (s3rver)',
    start: startS3Server,
    open: (server, bucket, env = server.env) => new S3Store(bucket, s3ClientFromEnv(env)),
    checksExpiry: false,
  },
  {
    name: 'azure (azurite)',
    start: startAzurite,
    open: (server, bucket, env = server.env) => new AzureStore(bucket, azureAccessFromEnv(env)),
    checksExpiry: true,
  },
];

describe.each(backends)('object store: $name', (backend) => {
  let server: ObjectServer;
  let store: ObjectStore;
  beforeAll(async () => {
    server = await backend.start();
    await server.createBucket('media');
    store = backend.open(server, 'media');
  }, 60_000);
  afterAll(() => server?.close());

  it('lists every object under a prefix page by page, in key order, and filters by glob', async () => {
    const keys = Array.from(
      { length: 23 },
      (_, i) =>
        `photos/${i % 3 === 0 ? 'a/' : 'b/c/'}img-${String(i).padStart(2, '0')}.${i % 4 === 0 ? 'png' : 'jpg'}`,
    );
    await Promise.all(keys.map((k) => store.put(k, `bytes of ${k}`)));
    await store.put('other/x.jpg', 'x');
    const listed: string[] = [];
    for await (const o of store.list('photos/', { pageSize: 5 })) {
      listed.push(o.key);
      expect(o.size).toBe(`bytes of ${o.key}`.length);
    }
    expect(listed).toEqual([...keys].sort());
    const location = parseBucketUrl('s3://media/photos/**/*.png');
    const pngs: string[] = [];
    for await (const o of listLocation(store, location)) pngs.push(o.key);
    expect(pngs).toEqual(keys.filter((k) => k.endsWith('.png')).sort());
  });

  it('reads ranges, heads objects, and answers undefined for a missing one', async () => {
    await store.put('range/file.bin', Buffer.from('0123456789abcdef'));
    expect(await text(await store.get('range/file.bin', { start: 3, end: 9 }))).toBe('345678');
    expect(await text(await store.get('range/file.bin'))).toBe('0123456789abcdef');
    expect((await store.head('range/file.bin'))?.size).toBe(16);
    expect(await store.head('range/missing.bin')).toBeUndefined();
  });

  it('writes a large stream in parts, whole, and leaves nothing when the stream fails', async () => {
    const part = Buffer.alloc(1024 * 1024, 7);
    const chunks = Array.from({ length: 20 }, () => part);
    await store.put('big/whole.bin', Readable.from(chunks));
    expect((await store.head('big/whole.bin'))?.size).toBe(20 * part.length);

    async function* failing() {
      for (let i = 0; i < 12; i++) yield part;
      throw new Error('source broke');
    }
    await expect(store.put('big/broken.bin', Readable.from(failing()))).rejects.toThrow();
    expect(await store.head('big/broken.bin')).toBeUndefined();
  });

  it('presigns GETs that work without credentials', async () => {
    await store.put('signed/a.jpg', 'signed bytes');
    const { url, expiresAt } = await store.presignGet('signed/a.jpg', 3600);
    expect(expiresAt).toBeGreaterThan(Date.now() + 3500_000);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('signed bytes');
  });

  it.runIf(backend.checksExpiry)('a presigned URL stops working when it expires', async () => {
    await store.put('signed/short.jpg', 'short-lived');
    const { url } = await store.presignGet('signed/short.jpg', 1);
    await new Promise((r) => setTimeout(r, 2500));
    expect((await fetch(url)).status).toBe(403);
    const fresh = await store.presignGet('signed/short.jpg', 60);
    expect((await fetch(fresh.url)).status).toBe(200);
  });

  it('says which bucket does not exist', async () => {
    const missing = backend.open(server, 'no-such-bucket');
    const error = await missing.probe().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ObjectStoreError);
    expect((error as ObjectStoreError).problem).toBe('no-bucket');
    expect((error as Error).message).toContain('no-such-bucket');
  });

  it('says the endpoint is unreachable, naming no credential', async () => {
    const dead = Object.fromEntries(
      Object.entries(server.env).map(([k, v]) => [k, v.replace(/127\.0\.0\.1:\d+/, '127.0.0.1:1')]),
    );
    const error = await backend
      .open(server, 'media', dead)
      .probe()
      .catch((e: unknown) => e);
    expect((error as ObjectStoreError).problem).toBe('unreachable');
    for (const secret of Object.values(server.env).filter((v) => v.length > 12 && !v.startsWith('http')))
      expect(
        JSON.stringify({ m: (error as Error).message, h: (error as ObjectStoreError).hint }),
      ).not.toContain(secret);
  });
});

describe('azure credentials', () => {
  it('without any variable: a no-credentials error naming the variables to set', () => {
    const error = (() => {
      try {
        azureAccessFromEnv({});
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect((error as ObjectStoreError).problem).toBe('no-credentials');
    expect((error as ObjectStoreError).describe()).toContain('AZURE_STORAGE_CONNECTION_STRING');
  });
});

describe('s3 credentials', () => {
  it('without any credential: a no-credentials error, not a hang (no metadata server is asked)', async () => {
    const server = await startS3Server();
    try {
      const env = {
        AWS_ENDPOINT_URL: server.endpoint,
        AWS_REGION: 'us-east-1',
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
        AWS_CONFIG_FILE: '/nonexistent',
      };
      const saved = { ...process.env };
      for (const k of Object.keys(process.env)) if (k.startsWith('AWS_')) delete process.env[k];
      Object.assign(process.env, env);
      try {
        const error = await new S3Store('media', s3ClientFromEnv(env)).probe().catch((e: unknown) => e);
        expect((error as ObjectStoreError).problem).toBe('no-credentials');
      } finally {
        for (const k of Object.keys(process.env)) if (k.startsWith('AWS_')) delete process.env[k];
        Object.assign(process.env, saved);
      }
    } finally {
      await server.close();
    }
  });
});
