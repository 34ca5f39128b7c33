/**
 * Ingest benchmark (`npm run bench:ingest`, prints JSON + a table). Generates a folder of PNG images
 * (default ≥1 GB in 10,000 images; `--size-mb`, `--images`, or `--quick` for 1,000 images of 100 MB),
 * starts a private Redis and, per variant, an emulator, and measures in the same run against the same
 * emulator, `--reps` times each (default 3), alternating, medians reported:
 *  (a) raw baseline: the shards rfbatch plans (64 images by default), packed to tar files beforehand, each PUT
 *      with `curl -T` to a fresh signed URL (requested through the client), `--concurrency` at once;
 *  (b) official-client baseline (lib/official-client.ts): 256-image tar files built beforehand, 8 lanes
 *      of `curl -T` processes (fresh signed URL per tar), then the batch count polled until complete;
 *      timed from the first PUT to the complete count;
 *  (c) rfbatch: the ingest service as its own process, from `submit` until the run is handed to
 *      verification (scan + manifest + tar streaming + uploads), run by `tsx` and/or as a `node` bundle.
 * Variants (`--variants both|uncapped|capped`, default both): `uncapped`, and `capped`, where the
 * emulator caps every connection at `--throttle-bytes-per-second` (2,000,000), on its own data set
 * (`--capped-images` 2,000 of `--capped-size-mb` 217 MB; 20 MB with `--quick`), since a capped link
 * is slow. Plus the peak RSS of the ingest process and the Redis memory used.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { startEmulator } from '@rfbatch/emulator';
import {
  createRoboflowClient,
  createQueues,
  closeQueues,
  eachLimited,
  RunStore,
  spawnRedis,
  uploadToSignedUrl,
  type SignedUrlDetails,
} from '@rfbatch/shared';
import { pngBytes } from '@rfbatch/testkit/images';
import { submitRun } from '@rfbatch/run-control';
import { describeMachine } from './lib/machine.js';
import { OFFICIAL_LANES, OFFICIAL_SHARD_IMAGES, officialIngest } from './lib/official-client.js';
import { curlPut, peakRssMb, REPO } from './lib/proc.js';
import { emit, fmt, goalText, log as logger, row, type BenchResult, type TableRow } from './lib/report.js';
import { prebuildShards } from './lib/shards.js';
import { goal, median, round, speedRatio, summarize, type Goal } from './lib/stats.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'size-mb': { type: 'string' },
    images: { type: 'string' },
    'capped-size-mb': { type: 'string' },
    'capped-images': { type: 'string' },
    reps: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '32' },
    /** `both` (default), `uncapped` or `capped`. */
    variants: { type: 'string', default: 'both' },
    'throttle-bytes-per-second': { type: 'string', default: '2000000' },
    'data-dir': { type: 'string', default: join(REPO, 'bench', '.data') },
    /**
     * Node flags of the ingest process. The default is the setting recommended for ingest processes
     * (services/ingest/README.md): a small young generation, which V8 otherwise grows to 32 MB.
     */
    'node-flags': { type: 'string', default: '--max-old-space-size=512 --max-semi-space-size=2' },
    /** How the ingest process runs: `tsx` (as in this repo), `node` (an esbuild bundle), or `both`. */
    runner: { type: 'string', default: 'both' },
  },
});
const quick = args.quick;
const reps = Math.max(1, Number(args.reps));
const concurrency = Number(args.concurrency);
const throttleBps = Number(args['throttle-bytes-per-second']);
const API_KEY = 'bench-key';
const log = logger('ingest');

type Variant = 'uncapped' | 'capped';
const VARIANTS: Variant[] = args.variants === 'both' ? ['uncapped', 'capped'] : [args.variants as Variant];
for (const v of VARIANTS)
  if (v !== 'uncapped' && v !== 'capped')
    throw new Error(`--variants: "${args.variants}" is not both, uncapped or capped`);
const DATA: Record<Variant, { images: number; sizeMb: number }> = {
  uncapped: {
    images: Number(args.images ?? (quick ? 1_000 : 10_000)),
    sizeMb: Number(args['size-mb'] ?? (quick ? 100 : 1_024)),
  },
  capped: {
    images: Number(args['capped-images'] ?? 2_000),
    sizeMb: Number(args['capped-size-mb'] ?? (quick ? 20 : 217)),
  },
};
const capLabel = (v: Variant) =>
  v === 'capped' ? `capped at ${(throttleBps / 1e6).toFixed(1)} MB/s per connection` : 'no cap';

/** Generates (once; cached under the data dir) `images` PNGs of about `sizeMb` in all, 100 per folder. */
async function dataset(images: number, sizeMb: number): Promise<{ dir: string; bytes: number }> {
  const dir = join(args['data-dir'], `ingest-${images}x${sizeMb}mb`, 'src');
  const marker = join(dir, '..', 'complete.json');
  if (existsSync(marker))
    return { dir, bytes: (JSON.parse(await readFile(marker, 'utf8')) as { bytes: number }).bytes };
  await rm(dir, { recursive: true, force: true });
  const target = Math.floor((sizeMb * 1024 * 1024) / images);
  let bytes = 0;
  const started = Date.now();
  for (let i = 0; i < images; i++) {
    const folder = join(
      dir,
      `set-${String(Math.floor(i / 1000)).padStart(2, '0')}`,
      `batch ${Math.floor(i / 100) % 10}`,
    );
    if (i % 100 === 0) await mkdir(folder, { recursive: true });
    const png = pngBytes(i, target);
    bytes += png.length;
    await writeFile(join(folder, `img ${i}.png`), png);
  }
  await writeFile(marker, JSON.stringify({ images, bytes }));
  log(
    `generated ${images} images, ${(bytes / 1e6).toFixed(0)} MB in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  return { dir, bytes };
}

async function usedMemory(redis: Redis): Promise<{ used: number; peak: number }> {
  const info = await redis.info('memory');
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? 0);
  return { used: field('used_memory'), peak: field('used_memory_peak') };
}

type Runner = 'tsx' | 'node';

/** The ingest process as a plain-node bundle (what a production image would run): no tsx loader thread. */
async function bundleIngest(outfile: string): Promise<void> {
  const { build } = await import('esbuild');
  await build({
    entryPoints: [join(REPO, 'services/ingest/src/main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'error',
    // Only the test helpers' container fallback needs these, never the service.
    external: ['@testcontainers/redis', 'testcontainers', 'vitest'],
    banner: {
      js: "import { createRequire as __rfbCreateRequire } from 'node:module'; const require = __rfbCreateRequire(import.meta.url);",
    },
  });
}

interface IngestRep {
  seconds: number;
  peakRssMb: number;
  idleRssMb: number;
  redisBytes: number;
  planSeconds: number;
  uploadSeconds: number;
}

interface Shared {
  work: string;
  redisUrl: string;
  redis: Redis;
  runners: Runner[];
  bundle: string;
  useCurl: boolean;
  children: Set<ChildProcess>;
}

interface VariantRuns {
  variant: Variant;
  throttleBytesPerSecond: number | null;
  images: number;
  bytes: number;
  raw: { shards: number; tarBytes: number; seconds: number[] };
  official: {
    shards: number;
    tarBytes: number;
    seconds: number[];
    putSeconds: number[];
    countPolls: number[];
  };
  rfbatch: Record<Runner, IngestRep[]>;
}

/** One variant: its own emulator (capped or not), both baselines and rfbatch, alternating per rep. */
async function measure(variant: Variant, shared: Shared): Promise<VariantRuns> {
  const { images, sizeMb } = DATA[variant];
  const throttle = variant === 'capped' ? throttleBps : undefined;
  const { dir: src, bytes } = await dataset(images, sizeMb);
  const vwork = join(shared.work, variant);
  const emulator = await startEmulator({
    port: 0,
    apiKeys: [API_KEY],
    indexingDelayMs: 0,
    dataDir: join(vwork, 'emulator'),
    ...(throttle ? { throttleBytesPerSecond: throttle } : {}),
  });
  const client = createRoboflowClient({ apiUrl: emulator.url, apiKey: API_KEY });
  try {
    log(`${variant}: packing the baselines' tars (rfbatch's shards, and 256-image shards)`);
    const raw = await prebuildShards(src, join(vwork, 'raw'));
    const official = await prebuildShards(src, join(vwork, 'official'), OFFICIAL_SHARD_IMAGES);
    if (raw.images !== images || official.images !== images)
      throw new Error(`the baselines' tars hold ${raw.images} / ${official.images} images, not ${images}`);
    const put = async (details: SignedUrlDetails, file: string) => {
      if (shared.useCurl) await curlPut(details.uploadURL, details.extensionHeaders, file);
      else await uploadToSignedUrl(details, createReadStream(file), (await stat(file)).size);
    };

    const rawRep = async (rep: number): Promise<number> => {
      const batchId = `bench-raw-${rep}`;
      const t0 = performance.now();
      await eachLimited(raw.tars, concurrency, async (tar) =>
        put(await client.requestShardUploadUrl(batchId), tar),
      );
      const seconds = (performance.now() - t0) / 1000;
      const count = await client.countBatch(batchId);
      if (count !== images) throw new Error(`baseline batch ${batchId} holds ${count} items, not ${images}`);
      return seconds;
    };

    const officialRep = (rep: number) => {
      const batchId = `bench-official-${rep}`;
      return officialIngest({
        tars: official.tars,
        images,
        signedUrl: () => client.requestShardUploadUrl(batchId),
        put,
        count: () => client.countBatch(batchId),
      });
    };

    const ingestRep = async (runner: Runner, rep: number): Promise<IngestRep> => {
      const tag = `${variant}-${runner}-${rep}`;
      const prefix = `bench-ingest-${process.pid}-${tag}`;
      const env = {
        ...process.env,
        REDIS_URL: shared.redisUrl,
        RFBATCH_PREFIX: prefix,
        RFBATCH_WORK_DIR: join(vwork, `ingest-${tag}`),
        ROBOFLOW_API_URL: emulator.url,
        ROBOFLOW_API_KEY: API_KEY,
        RFBATCH_INGEST_CONCURRENCY: String(concurrency),
        LOG_LEVEL: 'warn',
        // Recommended for ingest processes (README): fewer glibc arenas for the fs thread pool.
        MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2',
      };
      const flags = args['node-flags'].split(' ').filter(Boolean);
      const entry = runner === 'tsx' ? ['--import', 'tsx', 'services/ingest/src/main.ts'] : [shared.bundle];
      const child = spawn(process.execPath, [...flags, ...entry], {
        cwd: REPO,
        env,
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      shared.children.add(child);
      const queues = createQueues(shared.redis, prefix);
      const store = new RunStore(shared.redis, prefix);
      try {
        while ((await queues.ingest.getWorkers()).length === 0) await sleep(50);
        const idleRssMb = peakRssMb(child.pid!);
        const before = await usedMemory(shared.redis);
        const batchId = `bench-ingest-${runner}-${rep}`;
        const t0 = performance.now();
        const { runId } = await submitRun(queues, store, {
          runId: `bench-${tag}`,
          batchId,
          source: { kind: 'directory', path: src },
          workflow: { workflowId: 'bench' },
          output: { dir: join(vwork, 'out') },
        });
        let status = 'queued';
        let peakRedis = before.used;
        const trace: string[] = [];
        while (!['verifying', 'failed'].includes(status)) {
          await sleep(25);
          if (process.env.RSS_TRACE)
            trace.push(
              `${((performance.now() - t0) / 1000).toFixed(2)}:${status}:${/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0}`,
            );
          status = (await store.require(runId)).status;
          peakRedis = Math.max(peakRedis, (await usedMemory(shared.redis)).used);
        }
        const seconds = (performance.now() - t0) / 1000;
        if (process.env.RSS_TRACE) log(trace.join(' '));
        const state = await store.require(runId);
        if (status === 'failed') throw new Error(`ingest run failed: ${JSON.stringify(state.error)}`);
        const span = (t?: { startedAt: string; endedAt?: string }) =>
          t?.endedAt ? (Date.parse(t.endedAt) - Date.parse(t.startedAt)) / 1000 : Number.NaN;
        const count = await client.countBatch(batchId);
        if (count !== images) throw new Error(`ingest batch holds ${count} items, not ${images}`);
        return {
          seconds,
          peakRssMb: peakRssMb(child.pid!),
          idleRssMb,
          redisBytes: peakRedis - before.used,
          planSeconds: span(state.timings.plan),
          uploadSeconds: span(state.timings.upload),
        };
      } finally {
        child.kill('SIGTERM');
        if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
        shared.children.delete(child);
        await closeQueues(queues);
      }
    };

    // Baselines and ingest reps alternate, so drift in the machine's load hits every side alike.
    const out: VariantRuns = {
      variant,
      throttleBytesPerSecond: throttle ?? null,
      images,
      bytes,
      raw: { shards: raw.tars.length, tarBytes: raw.bytes, seconds: [] },
      official: {
        shards: official.tars.length,
        tarBytes: official.bytes,
        seconds: [],
        putSeconds: [],
        countPolls: [],
      },
      rfbatch: { tsx: [], node: [] },
    };
    for (let rep = 0; rep < reps; rep++) {
      out.raw.seconds.push(await rawRep(rep));
      const o = await officialRep(rep);
      out.official.seconds.push(o.seconds);
      out.official.putSeconds.push(o.putSeconds);
      out.official.countPolls.push(o.countPolls);
      const parts = [
        `raw curl -T ×${concurrency} ${out.raw.seconds.at(-1)!.toFixed(2)} s`,
        `official ×${OFFICIAL_LANES} ${o.seconds.toFixed(2)} s`,
      ];
      for (const runner of shared.runners) {
        const r = await ingestRep(runner, rep);
        out.rfbatch[runner].push(r);
        parts.push(
          `rfbatch (${runner}) ${r.seconds.toFixed(2)} s (plan ${r.planSeconds.toFixed(2)} s, peak RSS ${r.peakRssMb.toFixed(0)} MB, ${r.idleRssMb.toFixed(0)} MB idle)`,
        );
      }
      log(`${variant} rep ${rep + 1}/${reps}: ${parts.join(', ')}`);
    }
    return out;
  } finally {
    await client.close();
    await emulator.close();
    await rm(vwork, { recursive: true, force: true });
  }
}

/** JSON of one variant (the shape the uncapped side had before variants, plus the official baseline). */
function report(v: VariantRuns, runners: Runner[]) {
  const mb = v.bytes / 1e6;
  const side = (times: number[]) => ({
    seconds: times.map((t) => round(t, 3)),
    medianSeconds: round(median(times), 3),
    MBps: round(mb / median(times)),
    imagesPerSecond: round(v.images / median(times), 1),
  });
  const ingestSide = (runs: IngestRep[]) => {
    const times = runs.map((r) => r.seconds);
    return {
      ...side(times),
      /** raw curl -T time / rfbatch time. */
      ratio: speedRatio(v.raw.seconds, times),
      /** official-client-shaped time / rfbatch time. */
      ratioOfficial: speedRatio(v.official.seconds, times),
      peakRssMb: round(Math.max(...runs.map((r) => r.peakRssMb)), 1),
      peakRssMbPerRep: runs.map((r) => round(r.peakRssMb, 1)),
      idleRssMb: round(median(runs.map((r) => r.idleRssMb)), 1),
      planSeconds: runs.map((r) => round(r.planSeconds, 3)),
      uploadSeconds: runs.map((r) => round(r.uploadSeconds, 3)),
      redisMemoryUsedMb: round(Math.max(...runs.map((r) => r.redisBytes)) / 1e6, 3),
    };
  };
  const primary = v.rfbatch[runners[0]!].map((r) => r.seconds);
  return {
    throttleBytesPerSecond: v.throttleBytesPerSecond,
    dataset: {
      images: v.images,
      bytes: v.bytes,
      megabytes: round(mb, 1),
      shards: v.raw.shards,
      tarBytes: v.raw.tarBytes,
      officialShards: v.official.shards,
      officialTarBytes: v.official.tarBytes,
    },
    /** Raw curl -T of rfbatch's shards, `concurrency` at once. */
    baseline: side(v.raw.seconds),
    /** 8 × curl -T of 256-image tars, then the count polled (first PUT → count complete). */
    official: {
      ...side(v.official.seconds),
      lanes: OFFICIAL_LANES,
      shardImages: OFFICIAL_SHARD_IMAGES,
      putSeconds: summarize(v.official.putSeconds),
      countPolls: v.official.countPolls,
    },
    rfbatch: Object.fromEntries(runners.map((r) => [r, ingestSide(v.rfbatch[r])])),
    ratio: speedRatio(v.raw.seconds, primary),
    ratioOfficial: speedRatio(v.official.seconds, primary),
    ingestPeakRssMb: round(Math.max(...v.rfbatch[runners[0]!].map((r) => r.peakRssMb)), 1),
    redisMemoryUsedMb: round(
      Math.max(...runners.flatMap((r) => v.rfbatch[r].map((x) => x.redisBytes))) / 1e6,
      3,
    ),
  };
}

async function main(): Promise<void> {
  const work = join(tmpdir(), `rfbatch-bench-ingest-${process.pid}`);
  await mkdir(work, { recursive: true });
  const runners: Runner[] = args.runner === 'both' ? ['tsx', 'node'] : [args.runner as Runner];
  const redisHandle = process.env.REDIS_URL
    ? { url: process.env.REDIS_URL, stop: async () => {} }
    : await spawnRedis();
  const shared: Shared = {
    work,
    redisUrl: redisHandle.url,
    redis: new Redis(redisHandle.url, { maxRetriesPerRequest: 1 }),
    runners,
    bundle: join(work, 'ingest-main.mjs'),
    useCurl: spawnSync('curl', ['--version'], { stdio: 'ignore' }).status === 0,
    children: new Set(),
  };
  try {
    if (runners.includes('node')) await bundleIngest(shared.bundle);
    const variants: Partial<Record<Variant, ReturnType<typeof report>>> = {};
    for (const variant of VARIANTS) variants[variant] = report(await measure(variant, shared), runners);

    const primary = runners[0]!;
    const goals: Goal[] = [];
    const rows: TableRow[] = [];
    for (const variant of VARIANTS) {
      const v = variants[variant]!;
      const official =
        variant === 'capped'
          ? goal(`${capLabel(variant)}: vs official client (8 × curl -T)`, v.ratioOfficial, '>=', 2.0)
          : goal(`${capLabel(variant)}: vs official client (8 × curl -T)`, v.ratioOfficial, '>=', 1.0);
      const raw =
        variant === 'uncapped'
          ? goal(`${capLabel(variant)}: vs raw curl -T ×${concurrency}`, v.ratio, '>=', 0.9)
          : undefined;
      goals.push(official, ...(raw ? [raw] : []));
      const ours = v.rfbatch[primary]!;
      rows.push(
        row('ingest', `upload ${v.dataset.images} images, ${v.dataset.megabytes} MB, ${capLabel(variant)}`, {
          rfbatch: fmt.mbps(ours.MBps),
          baseline: `${fmt.mbps(v.baseline.MBps)} curl -T ×${concurrency}`,
          ratio: fmt.n(v.ratio),
          goal: goalText(raw),
        }),
        row(
          'ingest',
          `… vs official client: ${v.dataset.officialShards} tars of ${OFFICIAL_SHARD_IMAGES}, ${OFFICIAL_LANES} × curl -T + count`,
          {
            rfbatch: fmt.s(ours.medianSeconds),
            baseline: fmt.s(v.official.medianSeconds),
            ratio: fmt.n(v.ratioOfficial),
            goal: goalText(official),
          },
        ),
      );
    }
    const peakRss = Math.max(...VARIANTS.map((v) => variants[v]!.ingestPeakRssMb));
    const redisMb = Math.max(...VARIANTS.map((v) => variants[v]!.redisMemoryUsedMb));
    goals.push(goal('ingest peak RSS', peakRss, '<=', 150, ' MB'));
    rows.push(
      row('ingest', 'ingest peak RSS', { rfbatch: fmt.mb(peakRss), goal: goalText(goals.at(-1)) }),
      row('ingest', 'Redis memory used', { rfbatch: fmt.mb(redisMb) }),
    );

    // The first variant also fills the fields of the single-variant shape (bench/all.ts reads them).
    const first = variants[VARIANTS[0]!]!;
    const result: BenchResult = {
      benchmark: 'ingest',
      quick,
      machine: describeMachine(),
      setup: {
        reps,
        concurrency,
        officialLanes: OFFICIAL_LANES,
        officialShardImages: OFFICIAL_SHARD_IMAGES,
        variants: VARIANTS,
        throttleBytesPerSecond: throttleBps,
        cpus: cpus().length,
        loadAverage: loadavg().map((l) => round(l, 2)),
        node: process.version,
        nodeFlags: args['node-flags'],
        mallocArenaMax: process.env.MALLOC_ARENA_MAX ?? '2',
        baselineTool: shared.useCurl ? 'curl -T' : 'undici PUT',
        runners,
      },
      variants,
      dataset: first.dataset,
      baseline: first.baseline,
      official: first.official,
      rfbatch: first.rfbatch,
      ratio: first.ratio,
      ratioOfficial: first.ratioOfficial,
      ingestPeakRssMb: peakRss,
      redisMemoryUsedMb: redisMb,
      goals,
      rows,
    };
    emit(result);
  } finally {
    for (const child of shared.children) if (child.exitCode === null) child.kill('SIGKILL');
    shared.redis.disconnect();
    await redisHandle.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
