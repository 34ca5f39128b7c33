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
 * The services run in this process (the test kit's stack) on a private Redis. Every rfbatch run, here
 * and below, is followed until it is verified: the emulator holds started jobs pending, so no
 * processing or export runs on behind the next measurement. Ratios are the
 * official shape's median time over rfbatch's (above 1: rfbatch is faster).
 * `--quick` = 400 objects of 20 KB, 2 reps.
 *
 * Two more parts (`--parts modes,scale,stream`, default all three; the above is `modes`) run the
 * services as their own processes (lib/stack.ts: `tsx services/<name>/src/main.ts` with the settings of
 * `npm start`, a private Redis, the emulator in this process: ingest and jobs, fresh per run):
 *  scale:  references mode at scale. `--scale-objects` (100,000; 5,000 with `--quick`) tiny PNGs put
 *          into the bucket with `--put-concurrency` (32) parallel PutObjects (the setup, timed apart);
 *          then, `--scale-reps` times (2; 1 with `--quick`), alternating, the official-client shape and
 *          an rfbatch references run (plan + upload + verify: list, presign, stage, wait for the
 *          count), objects/s and the peak RSS (VmHWM) of the ingest and jobs processes (goal ≤150 MB).
 *  stream: stream mode against a local folder. The ingest bench's image set (`--stream-images` 10,000
 *          PNGs, `--stream-size-mb` 1,024 in all; 1,000 / 100 with `--quick`, lib/data.ts) on disk and
 *          put into the bucket; `--stream-reps` (3; 2 with `--quick`) runs of each, alternating which
 *          goes first, per variant (`--stream-variants both|uncapped|capped`); plan + upload + verify,
 *          medians; ratio local time / bucket time (goal ≥0.8).
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { forgetObjectStores, listLocation, openObjectStore, type ObjectStore } from '@rfbatch/object-store';
import {
  createRoboflowClient,
  eachLimited,
  parseBucketUrl,
  RunStore,
  spawnRedis,
  TERMINAL_STATUSES,
  type Reference,
  type RunState,
} from '@rfbatch/shared';
import { pngBytes } from '@rfbatch/testkit/images';
import { startS3Server, type ObjectServer } from '@rfbatch/testkit/object-servers';
import { startStack, type Stack } from '@rfbatch/testkit/stack';
import { imageSet } from './lib/data.js';
import { describeMachine } from './lib/machine.js';
import { until } from './lib/proc.js';
import { emit, fmt, goalText, log as logger, row, type TableRow } from './lib/report.js';
import { BENCH_API_KEY, SERVICE_RUNTIME_ENV, startBenchStack, type BenchStack } from './lib/stack.js';
import { goal, median, round, speedRatio, summarize, type Goal } from './lib/stats.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    objects: { type: 'string' },
    'object-kb': { type: 'string' },
    reps: { type: 'string' },
    variants: { type: 'string', default: 'both' },
    'throttle-bytes-per-second': { type: 'string', default: '2000000' },
    parts: { type: 'string', default: 'modes,scale,stream' },
    'scale-objects': { type: 'string' },
    'scale-reps': { type: 'string' },
    'put-concurrency': { type: 'string', default: '32' },
    'stream-images': { type: 'string' },
    'stream-size-mb': { type: 'string' },
    'stream-reps': { type: 'string' },
    'stream-variants': { type: 'string', default: 'both' },
  },
});
const quick = args.quick;
const objects = Number(args.objects ?? (quick ? 400 : 2_000));
const objectBytes = Number(args['object-kb'] ?? (quick ? 20 : 100)) * 1024;
const reps = Math.max(1, Number(args.reps ?? (quick ? 2 : 3)));
const throttle = Number(args['throttle-bytes-per-second']);
type Variant = 'uncapped' | 'capped';
const variantList = (flag: string): Variant[] => {
  const list = flag === 'both' ? ['uncapped', 'capped'] : [flag];
  for (const v of list)
    if (v !== 'uncapped' && v !== 'capped') throw new Error(`"${flag}" is not both, uncapped or capped`);
  return list as Variant[];
};
const variants = variantList(args.variants);
const parts = new Set(args.parts.split(',').map((p) => p.trim()));
for (const p of parts)
  if (!['modes', 'scale', 'stream'].includes(p)) throw new Error(`--parts: unknown part "${p}"`);
const scaleObjects = Number(args['scale-objects'] ?? (quick ? 5_000 : 100_000));
const scaleReps = Math.max(1, Number(args['scale-reps'] ?? (quick ? 1 : 2)));
const putConcurrency = Number(args['put-concurrency']);
const streamImages = Number(args['stream-images'] ?? (quick ? 1_000 : 10_000));
const streamSizeMb = Number(args['stream-size-mb'] ?? (quick ? 100 : 1_024));
const streamReps = Math.max(1, Number(args['stream-reps'] ?? (quick ? 2 : 3)));
const streamVariants = variantList(args['stream-variants']);
const log = logger('bucket');
const SOURCE = 's3://bench-media/photos/';
const SCALE_SOURCE = 's3://bench-media/scale/';
const STREAM_SOURCE = 's3://bench-media/stream/';
/**
 * The emulator keeps a started job pending this long: what is measured ends with verify, so nothing
 * after it (processing, export) runs on in the background of the next measurement.
 */
const HOLD_JOBS_MS = 6 * 3_600_000;
/** The run is verified (what is measured is over), or ended. */
const verified = (s: RunState) =>
  s.timings.verify?.endedAt !== undefined || TERMINAL_STATUSES.includes(s.status);

const seconds = (t0: number) => (performance.now() - t0) / 1000;

interface OfficialTimes {
  /** First listing call → the batch counts every object. */
  seconds: number;
  /** First listing call → the last object presigned. */
  presignSeconds: number;
}

/**
 * What the official client does for a bucket: list, presign one by one, send, wait for the count.
 * Timed from the first listing call to the full count.
 */
async function officialShape(
  apiUrl: string,
  apiKey: string,
  source: string,
  batchId: string,
): Promise<OfficialTimes> {
  const started = performance.now();
  const location = parseBucketUrl(source);
  const store = openObjectStore(location);
  const references: Reference[] = [];
  for await (const object of listLocation(store, location)) {
    const { url } = await store.presignGet(object.key, 86_400);
    // The official client names objects by basename; ours are unique already, so keep keys distinct.
    references.push({ name: object.key.replaceAll('/', '_'), url });
  }
  const presignSeconds = seconds(started);
  const client = createRoboflowClient({ apiUrl, apiKey });
  try {
    for (let i = 0; i < references.length; i += 20_000)
      await client.ingestImageReferences(batchId, { imageReferences: references.slice(i, i + 20_000) });
    const deadline = Date.now() + 1_800_000;
    while ((await client.countBatch(batchId)) < references.length) {
      if (Date.now() > deadline) throw new Error(`official shape: batch ${batchId} never held every object`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await client.close();
  }
  return { seconds: seconds(started), presignSeconds };
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
  const state = await stack.waitForState(runId, verified, 900_000);
  if (state.status === 'failed' || state.status === 'cancelled')
    throw new Error(`run ${runId} ${state.status}: ${state.error?.message}`);
  return ingestSeconds(state);
}

interface ServiceRun {
  /** plan + upload + verify, from the run's stage timings. */
  seconds: number;
  /** Each stage's seconds. */
  stages: Record<string, number>;
  /** Peak RSS (VmHWM) of each service process, MB. */
  peakRssMb: Record<string, number>;
  /** Its VmHWM once its workers listened, before the run was submitted. */
  idleRssMb: Record<string, number>;
}

/**
 * One run until it is verified, on fresh ingest and jobs processes (so each peak RSS is this run's
 * own), with the bucket's credentials in their environment. Checks that every one of `files` was
 * planned.
 */
async function serviceRun(
  stack: BenchStack,
  tag: string,
  source: Record<string, unknown>,
  files: number,
  env: Record<string, string>,
): Promise<ServiceRun> {
  const prefix = `bbucket-${tag}`;
  const procs = await stack.startServices(prefix, ['ingest', 'jobs'], env);
  const rss = (read: (p: (typeof procs)[number]) => number) =>
    Object.fromEntries(procs.map((p) => [p.name.replace(/-\d+$/, ''), round(read(p), 1)]));
  const idleRssMb = rss((p) => p.peakRssMb());
  const producer = stack.producer(prefix);
  const out = join(stack.workDir, 'out', tag);
  try {
    const runId = await producer.submit({
      runId: `bucket-${tag}`,
      source,
      workflow: { workflowId: 'bench-bucket' },
      output: { dir: out },
    });
    const store = new RunStore(stack.probe.redis, prefix);
    const state = await until(
      `run ${runId} to be verified`,
      async () => {
        const s = await store.get(runId);
        return s && verified(s) ? s : undefined;
      },
      3_600_000,
      100,
    );
    if (state.status === 'failed' || state.status === 'cancelled')
      throw new Error(
        `run ${runId} ${state.status}: ${state.error?.message ?? ''} ${procs[0]!.stderrTail()}`,
      );
    if (state.counters.planned !== files)
      throw new Error(`run ${runId} planned ${state.counters.planned} files, not ${files}`);
    const stages: Record<string, number> = {};
    for (const [stage, t] of Object.entries(state.timings))
      if (t?.endedAt) stages[stage] = round((Date.parse(t.endedAt) - Date.parse(t.startedAt)) / 1000, 3);
    return { seconds: ingestSeconds(state), stages, peakRssMb: rss((p) => p.peakRssMb()), idleRssMb };
  } finally {
    await Promise.all(procs.map((p) => p.stop('SIGTERM')));
    await producer.close();
    await stack.probe.dropPrefix(prefix);
    await rm(out, { recursive: true, force: true });
    await rm(join(stack.workDir, 'work', 'runs', `bucket-${tag}`), { recursive: true, force: true });
  }
}

/** Puts `count` objects with `limit` PutObjects in flight; returns the seconds it took. */
async function fill(
  store: ObjectStore,
  count: number,
  limit: number,
  object: (i: number) => Promise<{ key: string; body: Buffer }> | { key: string; body: Buffer },
): Promise<number> {
  const t0 = performance.now();
  let done = 0;
  await eachLimited(
    Array.from({ length: count }, (_, i) => i),
    limit,
    async (i) => {
      const { key, body } = await object(i);
      await store.put(key, body);
      if (++done % 20_000 === 0) log(`  ${done} / ${count} objects put`);
    },
  );
  return seconds(t0);
}

/** Part `modes`: the official shape against references and stream mode, services in this process. */
async function modesPart(media: ObjectStore, rows: TableRow[]): Promise<Record<string, unknown>> {
  log(`filling the bucket: ${objects} objects of ${objectBytes} bytes`);
  await fill(media, objects, 16, (i) => ({
    key: `photos/cam-${i % 8}/day-${i % 5}/img-${i}.png`,
    body: pngBytes(i, objectBytes),
  }));
  const redis = await spawnRedis({ dir: await mkdtemp(join(tmpdir(), 'rfbatch-bench-redis-')) });
  const results: Record<string, unknown> = {};
  try {
    for (const variant of variants) {
      const stack = await startStack({
        redisUrl: redis.url,
        emulator: {
          webhooks: false,
          indexingDelayMs: 0,
          processingMsPerItem: 0,
          jobStartDelayMs: HOLD_JOBS_MS,
          ...(variant === 'capped' ? { throttleBytesPerSecond: throttle } : {}),
        },
      });
      const times = { official: [] as number[], references: [] as number[], stream: [] as number[] };
      try {
        for (let rep = 0; rep < reps; rep++) {
          const official = await officialShape(
            stack.emulator.url,
            'bench',
            SOURCE,
            `bench-official-${variant}-${rep}`,
          );
          times.official.push(official.seconds);
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
  }
  return results;
}

/** Part `scale`: references mode on `scaleObjects` objects, rfbatch's processes against the official shape. */
async function scalePart(
  media: ObjectStore,
  s3: ObjectServer,
  rows: TableRow[],
  goals: Goal[],
): Promise<Record<string, unknown>> {
  log(`scale: putting ${scaleObjects} tiny PNGs, ${putConcurrency} PutObjects at once`);
  // At most 1,000 objects per folder: s3rver lists a page by walking the folders after the marker.
  const setupSeconds = await fill(media, scaleObjects, putConcurrency, (i) => ({
    key: `scale/d-${String(Math.floor(i / 1_000)).padStart(4, '0')}/img-${i}.png`,
    body: pngBytes(`scale-${i}`),
  }));
  log(`scale: setup ${fmt.s(setupSeconds)} (${round(scaleObjects / setupSeconds, 0)} PutObjects/s)`);
  const stack = await startBenchStack({ jobStartDelayMs: HOLD_JOBS_MS });
  const official: OfficialTimes[] = [];
  const runs: ServiceRun[] = [];
  try {
    for (let rep = 0; rep < scaleReps; rep++) {
      const officialRep = () =>
        officialShape(stack.emulator.url, BENCH_API_KEY, SCALE_SOURCE, `bench-scale-official-${rep}`);
      const rfbatchRep = () =>
        serviceRun(
          stack,
          `scale-${rep}`,
          { kind: 'bucket', url: SCALE_SOURCE, mode: 'references' },
          scaleObjects,
          s3.env,
        );
      // Alternate which side goes first, so drift in the machine's load hits both alike.
      if (rep % 2 === 0) {
        official.push(await officialRep());
        runs.push(await rfbatchRep());
      } else {
        runs.push(await rfbatchRep());
        official.push(await officialRep());
      }
      const r = runs.at(-1)!;
      log(
        `scale rep ${rep + 1}/${scaleReps}: official ${fmt.s(official.at(-1)!.seconds)}, rfbatch references ${fmt.s(r.seconds)} (${JSON.stringify(r.stages)}), peak RSS ${JSON.stringify(r.peakRssMb)}`,
      );
    }
  } finally {
    await stack.close();
  }
  const times = runs.map((r) => r.seconds);
  const officialTimes = official.map((o) => o.seconds);
  const peak = (name: string) => Math.max(...runs.map((r) => r.peakRssMb[name] ?? Number.NaN));
  const idle = (name: string) => median(runs.map((r) => r.idleRssMb[name] ?? Number.NaN));
  const stagingPeak = Math.max(peak('ingest'), peak('jobs'));
  const ratio = speedRatio(officialTimes, times);
  const rssGoal = goal(
    `references mode, ${scaleObjects} objects: peak RSS of the ingest and jobs processes`,
    stagingPeak,
    '<=',
    150,
    ' MB',
  );
  goals.push(rssGoal);
  rows.push(
    row('bucket', `scale: list + presign + stage ${scaleObjects} objects, references mode`, {
      rfbatch: `${fmt.n(scaleObjects / median(times), 0)} objects/s (${fmt.s(median(times))})`,
      baseline: `${fmt.n(scaleObjects / median(officialTimes), 0)} objects/s (${fmt.s(median(officialTimes))}, official shape)`,
      ratio: fmt.x(ratio),
    }),
    row('bucket', `scale: peak RSS, ingest / jobs process`, {
      rfbatch: `${fmt.mb(peak('ingest'))} / ${fmt.mb(peak('jobs'))} (idle ${fmt.mb(idle('ingest'))} / ${fmt.mb(idle('jobs'))})`,
      goal: goalText(rssGoal),
    }),
    row('bucket', `scale: setup, ${scaleObjects} PutObjects ×${putConcurrency} (not timed above)`, {
      rfbatch: fmt.s(setupSeconds),
    }),
  );
  return {
    objects: scaleObjects,
    objectBytes: pngBytes('scale-0').length,
    reps: scaleReps,
    setupSeconds: round(setupSeconds, 1),
    putConcurrency,
    official: {
      seconds: summarize(officialTimes),
      presignSeconds: summarize(official.map((o) => o.presignSeconds)),
      objectsPerSecond: round(scaleObjects / median(officialTimes), 0),
    },
    rfbatch: {
      seconds: summarize(times),
      objectsPerSecond: round(scaleObjects / median(times), 0),
      stages: runs.map((r) => r.stages),
      peakRssMb: runs.map((r) => r.peakRssMb),
      idleRssMb: runs.map((r) => r.idleRssMb),
    },
    /** Official shape's median time / rfbatch's. */
    ratio,
    peakRssMb: stagingPeak,
  };
}

/** Part `stream`: the ingest bench's image set in stream mode from the bucket against the local folder. */
async function streamPart(
  media: ObjectStore,
  s3: ObjectServer,
  rows: TableRow[],
  goals: Goal[],
): Promise<Record<string, unknown>> {
  // The ingest bench's data set: pngBytes images of this size, 100 per folder (lib/data.ts).
  const bytesPerImage = Math.floor((streamSizeMb * 1024 * 1024) / streamImages);
  const set = await imageSet(
    { name: `bucket-stream-${streamImages}x${streamSizeMb}mb`, images: streamImages, bytesPerImage },
    log,
  );
  const files = (await readdir(set.dir, { recursive: true })).filter((f) => f.endsWith('.png')).sort();
  if (files.length !== streamImages)
    throw new Error(`${set.dir} holds ${files.length} images, not ${streamImages}`);
  log(`stream: putting ${files.length} images (${fmt.mb(set.bytes / 1e6)}) into the bucket`);
  const setupSeconds = await fill(media, files.length, 16, async (i) => ({
    key: `stream/${files[i]!}`,
    body: await readFile(join(set.dir, files[i]!)),
  }));
  const results: Record<string, unknown> = {};
  for (const variant of streamVariants) {
    const stack = await startBenchStack({
      jobStartDelayMs: HOLD_JOBS_MS,
      ...(variant === 'capped' ? { throttleBytesPerSecond: throttle } : {}),
    });
    const runs = { local: [] as ServiceRun[], bucket: [] as ServiceRun[] };
    try {
      for (let rep = 0; rep < streamReps; rep++) {
        const local = async () =>
          runs.local.push(
            await serviceRun(
              stack,
              `${variant}-local-${rep}`,
              { kind: 'directory', path: set.dir },
              streamImages,
              {},
            ),
          );
        const bucket = async () =>
          runs.bucket.push(
            await serviceRun(
              stack,
              `${variant}-stream-${rep}`,
              { kind: 'bucket', url: STREAM_SOURCE, mode: 'stream' },
              streamImages,
              s3.env,
            ),
          );
        if (rep % 2 === 0) {
          await local();
          await bucket();
        } else {
          await bucket();
          await local();
        }
        log(
          `stream ${variant} rep ${rep + 1}/${streamReps}: local ${fmt.s(runs.local.at(-1)!.seconds)}, bucket ${fmt.s(runs.bucket.at(-1)!.seconds)}, ingest peak RSS ${fmt.mb(runs.local.at(-1)!.peakRssMb.ingest!)} / ${fmt.mb(runs.bucket.at(-1)!.peakRssMb.ingest!)}`,
        );
      }
    } finally {
      await stack.close();
    }
    const local = runs.local.map((r) => r.seconds);
    const bucket = runs.bucket.map((r) => r.seconds);
    const ratio = speedRatio(local, bucket);
    const label =
      variant === 'capped' ? `capped at ${fmt.n(throttle / 1e6, 1)} MB/s per connection` : 'no cap';
    const g = goal(
      `stream mode from the bucket vs a local folder, ${label}: local time / bucket time`,
      ratio,
      '>=',
      0.8,
    );
    goals.push(g);
    const mb = set.bytes / 1e6;
    rows.push(
      row(
        'bucket',
        `stream: ${streamImages} images, ${fmt.n(mb, 0)} MB from the bucket vs a folder, ${label}`,
        {
          rfbatch: `${fmt.mbps(mb / median(bucket))} (${fmt.s(median(bucket))})`,
          baseline: `${fmt.mbps(mb / median(local))} (${fmt.s(median(local))}, local folder)`,
          ratio: fmt.n(ratio),
          goal: goalText(g),
        },
      ),
    );
    const side = (rs: ServiceRun[]) => ({
      seconds: summarize(rs.map((r) => r.seconds)),
      MBps: round(mb / median(rs.map((r) => r.seconds))),
      stages: rs.map((r) => r.stages),
      peakRssMb: rs.map((r) => r.peakRssMb),
      idleRssMb: rs.map((r) => r.idleRssMb),
    });
    results[variant] = {
      throttleBytesPerSecond: variant === 'capped' ? throttle : null,
      local: side(runs.local),
      bucket: side(runs.bucket),
      /** Local median time / bucket median time. */
      ratio,
    };
  }
  return {
    images: streamImages,
    bytes: set.bytes,
    reps: streamReps,
    setupSeconds: round(setupSeconds, 1),
    ...results,
  };
}

const s3 = await startS3Server();
Object.assign(process.env, s3.env);
forgetObjectStores();
await s3.createBucket('bench-media');
const media = openObjectStore('s3://bench-media/');

const rows: TableRow[] = [];
const goals: Goal[] = [];
let results: Record<string, unknown> = {};
const more: Record<string, unknown> = {};
try {
  if (parts.has('modes')) results = await modesPart(media, rows);
  if (parts.has('scale')) more.scale = await scalePart(media, s3, rows, goals);
  if (parts.has('stream')) more.stream = await streamPart(media, s3, rows, goals);
} finally {
  await s3.close();
}

emit({
  benchmark: 'bucket',
  quick,
  machine: describeMachine(),
  setup: {
    parts: [...parts],
    objects,
    objectBytes,
    reps,
    throttleBytesPerSecond: throttle,
    server: 's3rver (loopback)',
    scaleObjects,
    scaleReps,
    streamImages,
    streamSizeMb,
    streamReps,
    streamVariants,
    serviceEnv: SERVICE_RUNTIME_ENV,
  },
  goals,
  rows,
  results,
  ...more,
});
