/**
 * Workers that share nothing but Redis and a bucket: two ingest processes, one jobs process and two
 * export processes, each with its own RFBATCH_WORK_DIR (no common disk) and one RFBATCH_WORK_URL, on a
 * bucket source (stream mode: the ingest processes read the objects) with a bucket output. One ingest
 * process is SIGKILLed while shards upload; the run still ends with one ok result per object, and the
 * run's files are in the work bucket, not in any folder the others could read.
 */
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forgetObjectStores, openObjectStore, type ObjectStore } from '@rfbatch/object-store';
import { eachLimited } from '@rfbatch/shared';
import { pngBytes } from '@rfbatch/testkit/images';
import { startS3Server, type ObjectServer } from '@rfbatch/testkit/object-servers';
import { startStack, type SpawnedWorkers, type Stack } from '@rfbatch/testkit/stack';

const N = 1500;
let server: ObjectServer;
let stack: Stack;
const saved = { ...process.env };
const workers: SpawnedWorkers[] = [];

async function text(store: ObjectStore, key: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of await store.get(key)) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

beforeAll(async () => {
  server = await startS3Server();
  Object.assign(process.env, server.env);
  forgetObjectStores();
  for (const bucket of ['media', 'work', 'results']) await server.createBucket(bucket);
  const media = openObjectStore('s3://media/');
  await eachLimited(
    Array.from({ length: N }, (_, i) => i),
    16,
    (i) => media.put(`cams/${i % 4}/day-${i % 3}/img-${Math.floor(i / 12)}.png`, pngBytes(i)),
  );
  // The test process only submits and watches: every service runs in a child of its own.
  stack = await startStack({
    emulator: { webhooks: false, indexingDelayMs: 300 },
    ingest: false,
    jobs: false,
    export: false,
  });
}, 120_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => w.kill('SIGKILL').catch(() => {})));
  await stack?.close();
  await server?.close();
  process.env = saved;
  forgetObjectStores();
});

describe('shared-nothing workers (RFBATCH_WORK_URL)', () => {
  it(`ingest ×2 (one SIGKILLed), jobs, export ×2 on separate work dirs: ${N} ok results in the output bucket`, async () => {
    const host = async (name: string) => ({
      RFBATCH_WORK_DIR: await mkdtemp(join(tmpdir(), `rfbatch-host-${name}-`)),
      RFBATCH_WORK_URL: 's3://work/fleet/',
    });
    const hosts = {
      ingestA: await host('ingest-a'),
      ingestB: await host('ingest-b'),
      jobs: await host('jobs'),
      exportA: await host('export-a'),
      exportB: await host('export-b'),
    };
    const spawn = (names: Array<'ingest' | 'jobs' | 'export'>, env: Record<string, string>) => {
      const w = stack.spawnWorkers(names, { env, export: { filesPerJob: 1 } });
      workers.push(w);
      return w;
    };
    const ingestA = spawn(['ingest'], hosts.ingestA);
    const ingestB = spawn(['ingest'], hosts.ingestB);
    const others = [
      spawn(['jobs'], hosts.jobs),
      spawn(['export'], hosts.exportA),
      spawn(['export'], hosts.exportB),
    ];
    await Promise.all([ingestA, ingestB, ...others].map((w) => w.ready));

    const runId = await stack.submit({
      source: { kind: 'bucket', url: 's3://media/cams/', mode: 'stream' },
      upload: { shardMaxImages: 50 },
      output: { dir: 's3://results/fleet-run/' },
    });
    await stack.waitForState(runId, (s) => (s.counters.shardsUploaded ?? 0) >= 2, 120_000);
    await ingestA.kill('SIGKILL');
    const state = await stack.waitForRun(runId, 240_000);
    expect(state.error).toBeUndefined();
    expect(state.status).toBe('completed');

    const results = openObjectStore('s3://results/');
    const lines = (await text(results, 'fleet-run/results.jsonl'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { source: string; status: string });
    expect(lines).toHaveLength(N);
    expect(lines.every((l) => l.status === 'ok')).toBe(true);
    expect(new Set(lines.map((l) => l.source)).size).toBe(N);
    const summary = JSON.parse(await text(results, 'fleet-run/summary.json')) as { runId: string };
    expect(summary.runId).toBe(runId);

    // The run's files went through the work bucket; the submitting process's work dir holds none.
    const work = openObjectStore('s3://work/');
    for (const file of ['plan.json', 'manifest.jsonl', 'skipped.jsonl', 'spec.json', 'downloads.jsonl'])
      expect(await work.head(`fleet/runs/${runId}/${file}`), file).toBeDefined();
    expect(await readdir(join(stack.workDir, 'runs')).catch(() => [])).not.toContain(runId);
    // Both export hosts downloaded a share (one file per download job), and finalize had them all.
    const outputsOn = async (dir: string) =>
      readdir(join(dir, 'runs', runId, 'output', 'outputs'), { recursive: true }).catch(() => []);
    expect((await outputsOn(hosts.exportA.RFBATCH_WORK_DIR)).length).toBeGreaterThan(0);
    expect((await outputsOn(hosts.exportB.RFBATCH_WORK_DIR)).length).toBeGreaterThan(0);
  }, 300_000);
});
