/**
 * Whole runs on bucket sources and outputs, against real object servers started here (s3rver for the
 * S3 API, azurite for Azure Blob, which checks the SAS signatures the emulator's fetches present) and
 * the emulator, on one private Redis. Both modes: `references` (each object presigned and sent as a
 * reference; the emulator fetches the URLs) and `stream` (the workers GET the objects into tar shards).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forgetObjectStores, openObjectStore, type ObjectStore } from '@rfbatch/object-store';
import { pngBytes } from '@rfbatch/testkit/images';
import { startAzurite, startS3Server, type ObjectServer } from '@rfbatch/testkit/object-servers';
import { startStack, type Stack } from '@rfbatch/testkit/stack';
import { eachLimited, MAX_IMAGE_BYTES } from '@rfbatch/shared';

interface Line {
  source: string;
  remoteName?: string;
  status: string;
  reason?: string;
  result?: Record<string, unknown>;
}

/** Objects under two prefixes that share basenames (`x.jpg` in both), plus objects the run must skip. */
function objectTree(n: number): Record<string, Buffer> {
  const objects: Record<string, Buffer> = {};
  for (let i = 0; i < n; i++)
    objects[`photos/${i % 2 ? 'day' : 'night'}/cam-${i % 5}/img-${Math.floor(i / 10)}.png`] = pngBytes(i);
  return objects;
}
const EXTRA: Record<string, Buffer> = {
  'photos/notes.txt': Buffer.from('not an image'),
  'photos/empty.png': Buffer.alloc(0),
  'elsewhere/other.png': pngBytes(99_999),
};

async function fill(store: ObjectStore, objects: Record<string, Buffer>): Promise<void> {
  await eachLimited(Object.entries(objects), 16, async ([key, body]) => store.put(key, body));
}

async function readLines(path: string): Promise<Line[]> {
  return (await readFile(path, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Line);
}

async function objectText(store: ObjectStore, key: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of await store.get(key)) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Every value under the stack's Redis prefix, as one string (keys, hashes, lists, streams, sets). */
async function redisDump(stack: Stack): Promise<string> {
  const redis = stack.ctx.store.redis;
  const parts: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${stack.prefix}*`, 'COUNT', 500);
    cursor = next;
    for (const key of keys) {
      const type = await redis.type(key);
      parts.push(key);
      if (type === 'string') parts.push((await redis.get(key)) ?? '');
      else if (type === 'hash') parts.push(JSON.stringify(await redis.hgetall(key)));
      else if (type === 'list') parts.push(JSON.stringify(await redis.lrange(key, 0, -1)));
      else if (type === 'set') parts.push(JSON.stringify(await redis.smembers(key)));
      else if (type === 'zset') parts.push(JSON.stringify(await redis.zrange(key, 0, -1)));
      else if (type === 'stream') parts.push(JSON.stringify(await redis.xrange(key, '-', '+')));
    }
  } while (cursor !== '0');
  return parts.join('\n');
}

const N = 1234;
const servers: Array<{ name: string; scheme: 's3' | 'az'; start: () => Promise<ObjectServer> }> = [
  { name: 's3 (s3rver)', scheme: 's3', start: startS3Server },
  { name: 'azure (azurite)', scheme: 'az', start: startAzurite },
];

describe.each(servers)('runs on a bucket: $name', ({ scheme, start }) => {
  let server: ObjectServer;
  let stack: Stack;
  let source: ObjectStore;
  const objects = objectTree(N);
  const saved = { ...process.env };

  beforeAll(async () => {
    server = await start();
    // The stores read their credentials from the environment only, as in production.
    Object.assign(process.env, server.env);
    forgetObjectStores();
    await server.createBucket('media');
    await server.createBucket('results');
    source = openObjectStore(`${scheme}://media/`);
    await fill(source, { ...objects, ...EXTRA });
    stack = await startStack({ emulator: { webhooks: false } });
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
    await server?.close();
    process.env = saved;
    forgetObjectStores();
  });

  it.each(['references', 'stream'] as const)(
    `${N} objects in nested prefixes with repeated basenames (%s mode): one ok line per object, keys as sources`,
    async (mode) => {
      const runId = await stack.submit({
        source: { kind: 'bucket', url: `${scheme}://media/photos/`, mode },
      });
      const state = await stack.waitForRun(runId, 180_000);
      expect(state.error).toBeUndefined();
      expect(state.status).toBe('completed');
      expect(state.uploadMode).toBe(mode === 'references' ? 'references' : 'shards');
      const lines = await readLines(join(stack.outputDir, runId, 'results.jsonl'));
      const ok = lines.filter((l) => l.status === 'ok');
      expect(ok).toHaveLength(N);
      expect(new Set(ok.map((l) => l.source))).toEqual(new Set(Object.keys(objects)));
      expect(new Set(ok.map((l) => l.remoteName)).size).toBe(N);
      for (const line of ok) expect(line.result?.file_name).toBe(line.remoteName);
      // Skipped, with reasons; the object outside the prefix is not part of the run at all.
      expect(lines.filter((l) => l.status === 'skipped').map((l) => [l.source, l.reason])).toEqual(
        expect.arrayContaining([
          ['photos/notes.txt', expect.stringContaining('not-media')],
          ['photos/empty.png', expect.stringContaining('empty')],
        ]),
      );
      expect(lines.some((l) => l.source === 'elsewhere/other.png')).toBe(false);
      if (mode === 'references') {
        // The presigned URLs' expiry is on the run, about 24 h ahead.
        const at = Date.parse(state.referencesExpireAt ?? '');
        expect(at - Date.now()).toBeGreaterThan(23 * 3600_000);
        expect(at - Date.now()).toBeLessThan(25 * 3600_000);
      }
      // No presigned URL or credential reached Redis or the results.
      const signature = scheme === 's3' ? 'X-Amz-Signature' : 'sig=';
      const dump = await redisDump(stack);
      const results = await readFile(join(stack.outputDir, runId, 'results.jsonl'), 'utf8');
      for (const shown of [dump, results]) {
        expect(shown).not.toContain(signature);
        for (const secret of Object.values(server.env).filter((v) => v.length > 20 && !v.startsWith('http')))
          expect(shown).not.toContain(secret);
      }
    },
    240_000,
  );

  it('a glob picks objects at any depth, and the output goes to a bucket prefix (written once)', async () => {
    const runId = await stack.submit({
      source: { kind: 'bucket', url: `${scheme}://media/photos/**/cam-3/*.png`, mode: 'stream' },
      output: { dir: `${scheme}://results/run-a/` },
    });
    const state = await stack.waitForRun(runId, 120_000);
    expect(state.error).toBeUndefined();
    expect(state.status).toBe('completed');
    const out = openObjectStore(`${scheme}://results/`);
    const keys: string[] = [];
    for await (const o of out.list('run-a/')) keys.push(o.key);
    expect(keys).toEqual(expect.arrayContaining(['run-a/results.jsonl', 'run-a/summary.json']));
    expect(keys).not.toContain('run-a/.rfbatch-run');
    expect(keys.filter((k) => k.startsWith('run-a/outputs/')).length).toBeGreaterThan(0);
    const lines = (await objectText(out, 'run-a/results.jsonl')).trim().split('\n');
    const expected = Object.keys(objects).filter((k) => k.includes('/cam-3/'));
    expect(lines).toHaveLength(expected.length);
    const summary = JSON.parse(await objectText(out, 'run-a/summary.json')) as { runId: string };
    expect(summary.runId).toBe(runId);
    // A second run into the same prefix while the first one holds it would be refused; after it ended,
    // the claim may be taken over. Here: finalize again publishes nothing new.
    const { publishOutput } = await import('@rfbatch/export');
    const again = await publishOutput(
      join(stack.workDir, 'runs', runId, 'output'),
      `${scheme}://results/run-a/`,
      Date.parse(state.createdAt) - 2_000,
    );
    // Outputs are not written again; report.html, results.jsonl and summary.json always are.
    expect(again.unchanged).toBe(keys.length - again.written);
    expect(again.written).toBe(
      keys.filter((k) => /(report\.html|results\.jsonl|summary\.json)$/.test(k)).length,
    );
  }, 180_000);

  it('preflight (--dry-run) plans a bucket too: counts, skipped with reasons, and a missing bucket as a problem', async () => {
    const { preflight } = await import('@rfbatch/preflight');
    const { planRun } = await import('@rfbatch/ingest');
    const { resolveRunSpec, RunSpecSchema } = await import('@rfbatch/shared');
    const specOf = (url: string) =>
      resolveRunSpec(
        RunSpecSchema.parse({
          source: { kind: 'bucket', url },
          workflow: { workflowId: 'wf' },
          output: { dir: join(stack.outputDir, 'pf') },
        }),
      );
    const good = await preflight(specOf(`${scheme}://media/photos/`), {
      client: stack.ctx.client,
      config: stack.config,
      planRun,
    });
    expect(good.plan).toMatchObject({
      files: N,
      skipped: 2,
      skippedByReason: { empty: 1, 'not-media': 1 },
      uploadMode: 'references',
      sourceKind: 'bucket',
      source: `${scheme}://media/photos/`,
    });
    const bad = await preflight(specOf(`${scheme}://no-such-bucket/`), {
      client: stack.ctx.client,
      config: stack.config,
      planRun,
    });
    expect(bad.ok).toBe(false);
    expect(bad.problems.map((p) => p.message).join(' ')).toMatch(/no-such-bucket/);
  }, 60_000);

  it('bad sources fail before anything is staged, with one line that says what to do', async () => {
    const missing = await stack.submit({ source: { kind: 'bucket', url: `${scheme}://no-such-bucket/x/` } });
    const a = await stack.waitForRun(missing, 60_000);
    expect(a.status).toBe('failed');
    expect(a.failedStage).toBe('plan');
    expect(a.error?.message).toMatch(/no-such-bucket/);
    expect(a.error?.hint).toMatch(/bucket|container/);

    const nothing = await stack.submit({
      source: { kind: 'bucket', url: `${scheme}://media/photos/**/*.jpg` },
    });
    const b = await stack.waitForRun(nothing, 60_000);
    expect(b.status).toBe('failed');
    expect(b.error?.message).toContain('nothing matches it');
    expect(stack.emulator.state().batches.map((x) => x.batchId)).not.toContain(`rfb-${nothing}`);
  }, 120_000);
});

describe('bucket sources in the RunSpec', () => {
  it('an unknown scheme or a credential in the URL is a validation error naming the fix', async () => {
    const { RunSpecSchema, zodProblems } = await import('@rfbatch/shared');
    const base = { workflow: { workflowId: 'wf' }, output: { dir: '/tmp/o' } };
    const problems = (input: unknown) =>
      zodProblems(RunSpecSchema.safeParse(input).error!)
        .map((p) => `${p.path}: ${p.message}`)
        .join('; ');
    const bad = (url: string) => problems({ ...base, source: { kind: 'bucket', url } });
    expect(bad('ftp://bucket/x/')).toMatch(/unknown storage scheme "ftp:\/\/"/);
    expect(bad('s3://KEY:SECRET@bucket/x/')).toMatch(/carry no credentials/);
    expect(bad('s3://b/x/')).toMatch(/not a valid bucket name/);
    const out = problems({
      ...base,
      source: { kind: 'directory', path: '/d' },
      output: { dir: 's3://b1b/*.x' },
    });
    expect(out).toMatch(/cannot contain a glob/);
    expect(MAX_IMAGE_BYTES).toBe(20 * 1024 * 1024);
  });
});
