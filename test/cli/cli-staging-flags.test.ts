/**
 * The official CLI's staging flags on `rfbatch stage` and `rfbatch run` against the emulator:
 * `--batch-name` (the `displayName` of every upload call), `--ingest-id` (tar shards carry it as it
 * is, references requests `<id>-<chunk>`), `--notifications-url` / `--notification-category` (the
 * user's webhook in each shard's notification_config.json, in the references body and in the job
 * body; the emulator delivers to it). Each asserts the exact request fields the official client sends.
 * The notifications URL carries a secret path: after the runs it is in no Redis key but the one that
 * keeps it apart (`<run>:notifications`, as `<run>:notify`), in no log line or output, no result or
 * work file. Bad values fail with the flag named.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pngBytes } from '@rfbatch/testkit/images';
import { writeTree } from '@rfbatch/testkit/source-tree';
import { startStack, type Stack } from '@rfbatch/testkit/stack';
import { waitFor } from '@rfbatch/testkit/wait-for';
import { cli } from './cli-harness.js';

const DS = '/data-staging/v1/external/local';
const BP = '/batch-processing/v1/external/local';
const SECRET = `hook-secret-${randomBytes(8).toString('hex')}`;

let stack: Stack;
let env: Record<string, string>;
let hooks: { server: Server; url: string; received: Record<string, unknown>[] };
let images: { server: Server; url: string };
/** Everything the CLI printed (logs at debug level included). */
const printed: string[] = [];

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

async function run(args: string[]) {
  const res = await cli(args, env);
  printed.push(res.stdout, res.stderr);
  return res;
}

/** Every Redis key of the stack's prefix, with its value as text. */
async function redisDump(): Promise<{ key: string; text: string }[]> {
  const client = new Redis(stack.redisUrl, { maxRetriesPerRequest: 1 });
  const out: { key: string; text: string }[] = [];
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${stack.prefix}:*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const type = await client.type(key);
        let value: unknown;
        if (type === 'string') value = await client.get(key);
        else if (type === 'hash') value = await client.hgetall(key);
        else if (type === 'list') value = await client.lrange(key, 0, -1);
        else if (type === 'set') value = await client.smembers(key);
        else if (type === 'zset') value = await client.zrange(key, 0, -1);
        else if (type === 'stream') value = await client.xrange(key, '-', '+');
        out.push({ key, text: JSON.stringify(value) });
      }
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
  return out;
}

async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

beforeAll(async () => {
  stack = await startStack({
    ingest: false,
    jobs: false,
    export: false,
    emulator: { webhooks: true, webhookRetryBaseMs: 20 },
  });
  const { ROBOFLOW_API_KEY: _key, ...rest } = stack.env;
  env = { ...rest, RFBATCH_POLL_MIN_MS: '100', RFBATCH_POLL_MAX_MS: '400', LOG_LEVEL: 'debug' };
  const received: Record<string, unknown>[] = [];
  const hookServer = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.url === `/hooks/${SECRET}`) received.push(JSON.parse(body) as Record<string, unknown>);
      res.end('ok');
    });
  });
  hooks = { server: hookServer, url: `${await listen(hookServer)}/hooks/${SECRET}`, received };
  const imageServer = createServer((req, res) => {
    res.setHeader('content-type', 'image/png');
    res.end(pngBytes(req.url ?? ''));
  });
  images = { server: imageServer, url: await listen(imageServer) };
}, 60_000);

afterAll(async () => {
  hooks?.server.close();
  images?.server.close();
  await stack?.close();
});

describe('official staging flags', () => {
  it('stage <folder> --batch-name --ingest-id --notifications-url: displayName on every shard URL request, the notification config in every tar', async () => {
    const source = join(stack.workDir, 'sharded');
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 40; i++) files[`img-${i}.png`] = pngBytes(`sharded-${i}`);
    await writeTree(source, files);
    stack.emulator.clearRequests();
    const res = await run([
      'stage',
      source,
      '--batch-id',
      'flags-sharded',
      '--batch-name',
      'Shelf photos',
      '--ingest-id',
      'my-ingest',
      '--notifications-url',
      hooks.url,
      '--out',
      join(stack.outputDir, 'sharded'),
    ]);
    expect(res.code, res.stderr).toBe(0);
    const shardCalls = stack.emulator
      .requests()
      .filter((r) => r.path === `${DS}/batches/flags-sharded/bulk-upload/image-files`);
    expect(shardCalls.length).toBeGreaterThanOrEqual(1);
    for (const call of shardCalls) {
      expect(call.method).toBe('POST');
      expect(call.query).toEqual({ displayName: 'Shelf photos' });
    }
    const batch = stack.emulator.state().batches.find((b) => b.batchId === 'flags-sharded')!;
    expect(batch.displayName).toBe('Shelf photos');
    expect(batch.notifications).toHaveLength(shardCalls.length);
    for (const n of batch.notifications)
      expect(n).toMatchObject({ ingestId: 'my-ingest', notificationsURL: hooks.url, categories: [] });
    // The API delivered the shards' notifications to the user's URL, under the user's ingest id.
    await waitFor(
      async () => (hooks.received.some((h) => h.batch_id === 'flags-sharded') ? true : undefined),
      20_000,
      'the shard notification',
    );
    const ingestHooks = hooks.received.filter((h) => h.batch_id === 'flags-sharded');
    expect(ingestHooks.every((h) => h.ingest_id === 'my-ingest')).toBe(true);
  }, 120_000);

  it('stage <small folder> --batch-name: displayName on every single image upload', async () => {
    const source = join(stack.workDir, 'simple');
    await writeTree(source, { 'a.png': pngBytes('a'), 'b.png': pngBytes('b'), 'c.png': pngBytes('c') });
    stack.emulator.clearRequests();
    const res = await run([
      'stage',
      source,
      '--batch-id',
      'flags-simple',
      '--batch-name',
      'Three images',
      '--out',
      join(stack.outputDir, 'simple'),
    ]);
    expect(res.code, res.stderr).toBe(0);
    const uploads = stack.emulator
      .requests()
      .filter((r) => r.path === `${DS}/batches/flags-simple/upload/image`)
      .map((r) => r.query);
    // The remote names are rfbatch's unique ones (`a-0.png`); the display name is on every call.
    expect(uploads.sort((x, y) => (x.fileName ?? '').localeCompare(y.fileName ?? ''))).toEqual(
      ['a', 'b', 'c'].map((n) => ({
        fileName: expect.stringMatching(new RegExp(`^${n}-\\d+\\.png$`)),
        displayName: 'Three images',
      })),
    );
  }, 60_000);

  it('run refs.jsonl with every flag: the references body and the job body carry the user URL, categories and ingest id', async () => {
    const refs = join(stack.workDir, 'refs.jsonl');
    await writeFile(
      refs,
      `${Array.from({ length: 3 }, (_, i) => JSON.stringify({ name: `ref-${i}.png`, url: `${images.url}/ref-${i}.png` })).join('\n')}\n`,
    );
    stack.emulator.clearRequests();
    const out = join(stack.outputDir, 'refs');
    const res = await run([
      'run',
      refs,
      '-w',
      'wf-flags',
      '--batch-id',
      'flags-refs',
      '--job-id',
      'job-flags-refs',
      '--batch-name',
      'Referenced',
      '--ingest-id',
      'refs-ingest',
      '--notifications-url',
      hooks.url,
      '--notification-category',
      'ingest-status',
      'files-status',
      '--out',
      out,
      '--json',
    ]);
    expect(res.code, res.stderr).toBe(0);
    const requests = stack.emulator.requests();
    const ingest = requests.filter((r) => r.path === `${DS}/batches/flags-refs/bulk-upload/image-references`);
    expect(ingest).toHaveLength(1);
    expect(ingest[0]!.query).toEqual({ displayName: 'Referenced' });
    expect(ingest[0]!.body).toEqual({
      imageReferences: Array.from({ length: 3 }, (_, i) => ({
        name: expect.stringMatching(new RegExp(`^ref-${i}-\\d+\\.png$`)),
        url: `${images.url}/ref-${i}.png`,
      })),
      ingestId: 'refs-ingest-0',
      notificationsURL: hooks.url,
      notificationCategories: ['ingest-status', 'files-status'],
    });
    const start = requests.filter((r) => r.method === 'POST' && r.path === `${BP}/jobs/job-flags-refs`);
    expect(start).toHaveLength(1);
    expect((start[0]!.body as { notificationsURL?: string }).notificationsURL).toBe(hooks.url);
    // Both the ingest and the job notified the user's URL; rfbatch followed the run by polling.
    await waitFor(
      async () =>
        hooks.received.some((h) => h.job_id === 'job-flags-refs') &&
        hooks.received.some((h) => h.ingest_id === 'refs-ingest-0')
          ? true
          : undefined,
      20_000,
      'the ingest and job notifications',
    );
    expect((JSON.parse(res.stdout) as { state: string }).state).toBe('completed');
  }, 120_000);

  it('keeps the notifications URL out of Redis (but its own key), the output, results and work files', async () => {
    const dump = await redisDump();
    expect(dump.length).toBeGreaterThan(10);
    const holding = dump.filter((d) => d.text.includes(SECRET)).map((d) => d.key);
    // Only the key that keeps it apart, as `<run>:notify` keeps the notify URL: one per run given it.
    expect(holding.length).toBe(2);
    for (const key of holding) expect(key).toMatch(new RegExp(`^${stack.prefix}:run:[^:]+:notifications$`));
    // The stored spec shows it redacted.
    const specs = dump.filter((d) => /:run:[^:]+$/.test(d.key) && d.text.includes('notifications'));
    expect(specs.length).toBe(2);
    for (const s of specs) expect(s.text).toContain('<redacted>');
    expect(printed.join('\n')).not.toContain(SECRET);
    expect(printed.join('\n')).toMatch(/references ingested/); // the workers' logs were on (debug)
    for (const file of [...(await filesUnder(stack.outputDir)), ...(await filesUnder(stack.workDir))]) {
      if (file.endsWith('.png') || file.endsWith('refs.jsonl')) continue;
      const text = await readFile(file, 'latin1');
      expect(text.includes(SECRET), file).toBe(false);
    }
  });

  it('refuses a bad notifications URL, an unknown category and a category without a URL, naming the flag', async () => {
    const source = join(stack.workDir, 'simple');
    const ftp = await run(['stage', source, '--notifications-url', 'ftp://hooks.example.com/x']);
    expect(ftp.code).toBe(2);
    expect(ftp.stderr).toContain('--notifications-url: must be an http(s) URL');
    const userinfo = await run([
      'stage',
      source,
      '--notifications-url',
      `https://user:${SECRET}@hooks.example.com/x`,
    ]);
    expect(userinfo.code).toBe(2);
    expect(userinfo.stderr).toContain('--notifications-url: must not carry a user name or password');
    expect(userinfo.stderr).not.toContain(SECRET);
    const unknown = await run([
      'stage',
      source,
      '--notifications-url',
      'https://hooks.example.com/x',
      '--notification-category',
      'everything',
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--notification-category.*everything.*ingest-status, files-status/);
    const alone = await run(['stage', source, '--notification-category', 'files-status']);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain('--notification-category needs --notifications-url');
    const badIngest = await run(['stage', source, '--ingest-id', 'has space']);
    expect(badIngest.code).toBe(2);
    expect(badIngest.stderr).toContain('--ingest-id: ingest id "has space" breaks the rule');
  });
});
