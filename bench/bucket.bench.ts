/**
 * Bucket ingest benchmark (`npm run bench:bucket`, prints JSON + a table). `--objects` PNGs
 * (default 2,000 of `--object-kb` 100 KB) in an s3rver bucket started here; per variant (`uncapped`,
 * and `capped`: the emulator caps every connection at `--throttle-bytes-per-second`, 2,000,000),
 * `--reps` times each, alternating, on the same emulator and bucket:
 *  (a) official-client shape (`--data-source cloud-storage`): list every key, presign each one after the
 *      other (24 h), one references ingest per 20,000, then poll the batch count until it holds every
 *      object; timed from the first listing call to the full count;
 *  (b) rfbatch, references mode: a run's plan + upload + verify (from the run's stage timings);
 *  (c) rfbatch, stream mode: the same, the workers reading the objects into tar shards.
 * The services run in this process (the test kit's stack) on a private Redis. Ratios are the
 * official shape's median time over rfbatch's (above 1: rfbatch is faster).
 * `--quick` = 400 objects of 20 KB, 2 reps.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { forgetObjectStores, listLocation, openObjectStore } from '@rfbatch/object-store';
import {
  createRoboflowClient,
  eachLimited,
  parseBucketUrl,
  spawnRedis,
  type Reference,
  type RunState,
} from '@rfbatch/shared';
import { pngBytes } from '@rfbatch/testkit/images';
import { startS3Server } from '@rfbatch/testkit/object-servers';
import { startStack, type Stack } from '@rfbatch/testkit/stack';
import { describeMachine } from './lib/machine.js';
import { emit, fmt, log as logger, row, type TableRow } from './lib/report.js';
import { median, round, speedRatio, summarize } from './lib/stats.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    objects: { type: 'string' },
    'object-kb': { type: 'string' },
    reps: { type: 'string' },
    variants: { type: 'string', default: 'both' },
    'throttle-bytes-per-second': { type: 'string', default: '2000000' },
  },
});
const quick = args.quick;
const objects = Number(args.objects ?? (quick ? 400 : 2_000));
const objectBytes = Number(args['object-kb'] ?? (quick ? 20 : 100)) * 1024;
const reps = Math.max(1, Number(args.reps ?? (quick ? 2 : 3)));
const throttle = Number(args['throttle-bytes-per-second']);
const variants = args.variants === 'both' ? ['uncapped', 'capped'] : [args.variants!];
const log = logger('bucket');
const SOURCE = 's3://bench-media/photos/';

/** What the official client does for a bucket: list, presign one by one, send, wait for the count. */
async function officialShape(stack: Stack, batchId: string): Promise<number> {
  const started = performance.now();
  const location = parseBucketUrl(SOURCE);
  const store = openObjectStore(location);
  const references: Reference[] = [];
  for await (const object of listLocation(store, location)) {
    const { url } = await store.presignGet(object.key, 86_400);
    // The official client names objects by basename; ours are unique already, so keep keys distinct.
    references.push({ name: object.key.replaceAll('/', '_'), url });
  }
  const client = createRoboflowClient({ apiUrl: stack.emulator.url, apiKey: 'bench' });
  try {
    for (let i = 0; i < references.length; i += 20_000)
      await client.ingestImageReferences(batchId, { imageReferences: references.slice(i, i + 20_000) });
    const deadline = Date.now() + 600_000;
    while ((await client.countBatch(batchId)) < references.length) {
      if (Date.now() > deadline) throw new Error(`official shape: batch ${batchId} never held every object`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await client.close();
  }
  return (performance.now() - started) / 1000;
}

/** Seconds of a run's plan + upload + verify (the ingest part), from its stage timings. */
function ingestSeconds(state: RunState): number {
  let ms = 0;
  for (const stage of ['plan', 'upload', 'verify'] as const) {
    const t = state.timings[stage];
    if (!t?.startedAt || !t.endedAt) throw new Error(`run ${state.runId}: no ${stage} timing`);
    ms += Date.parse(t.endedAt) - Date.parse(t.startedAt);
  }
  return ms / 1000;
}

async function rfbatchRun(stack: Stack, mode: 'references' | 'stream'): Promise<number> {
  const runId = await stack.submit({ source: { kind: 'bucket', url: SOURCE, mode } });
  const state = await stack.waitForRun(runId, 900_000);
  if (state.status !== 'completed') throw new Error(`run ${runId} ${state.status}: ${state.error?.message}`);
  return ingestSeconds(state);
}

const s3 = await startS3Server();
Object.assign(process.env, s3.env);
forgetObjectStores();
await s3.createBucket('bench-media');
const media = openObjectStore('s3://bench-media/');
log(`filling the bucket: ${objects} objects of ${objectBytes} bytes`);
await eachLimited(
  Array.from({ length: objects }, (_, i) => i),
  16,
  (i) => media.put(`photos/cam-${i % 8}/day-${i % 5}/img-${i}.png`, pngBytes(i, objectBytes)),
);
const redis = await spawnRedis({ dir: await mkdtemp(join(tmpdir(), 'rfbatch-bench-redis-')) });

const rows: TableRow[] = [];
const results: Record<string, unknown> = {};
try {
  for (const variant of variants) {
    const stack = await startStack({
      redisUrl: redis.url,
      emulator: {
        webhooks: false,
        indexingDelayMs: 0,
        processingMsPerItem: 0,
        jobStartDelayMs: 0,
        ...(variant === 'capped' ? { throttleBytesPerSecond: throttle } : {}),
      },
    });
    const times = { official: [] as number[], references: [] as number[], stream: [] as number[] };
    try {
      for (let rep = 0; rep < reps; rep++) {
        times.official.push(await officialShape(stack, `bench-official-${variant}-${rep}`));
        times.references.push(await rfbatchRun(stack, 'references'));
        times.stream.push(await rfbatchRun(stack, 'stream'));
        log(
          `${variant} rep ${rep + 1}: official ${fmt.s(times.official.at(-1)!)}, references ${fmt.s(times.references.at(-1)!)}, stream ${fmt.s(times.stream.at(-1)!)}`,
        );
      }
    } finally {
      await stack.close();
    }
    results[variant] = {
      official: summarize(times.official),
      references: summarize(times.references),
      stream: summarize(times.stream),
      ratioReferences: round(speedRatio(times.official, times.references)),
      ratioStream: round(speedRatio(times.official, times.stream)),
    };
    for (const mode of ['references', 'stream'] as const)
      rows.push(
        row('bucket', `${variant}: ingest of ${objects} objects, ${mode} mode`, {
          rfbatch: fmt.s(median(times[mode])),
          baseline: `${fmt.s(median(times.official))} (official shape)`,
          ratio: fmt.x(speedRatio(times.official, times[mode])),
        }),
      );
  }
} finally {
  await redis.stop();
  await s3.close();
}

emit({
  benchmark: 'bucket',
  quick,
  machine: describeMachine(),
  setup: { objects, objectBytes, reps, throttleBytesPerSecond: throttle, server: 's3rver (loopback)' },
  goals: [],
  rows,
  results,
});
