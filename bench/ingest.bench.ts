/**
 * Ingest benchmark (`npm run bench:ingest`, prints JSON). Generates a folder of PNG images (default
 * ≥1 GB in 10,000 images; `--size-mb`, `--images` for quick runs), starts the emulator and a private
 * Redis, and measures in the same run:
 *  (a) baseline: the same bytes as pre-built tar shards, each PUT with `curl -T` to a fresh signed URL
 *      (the URL requested through the client, as the official CLI does), `--concurrency` at once;
 *  (b) rfbatch: the ingest service as its own process, from `submit` until the run is handed to
 *      verification (scan + manifest + tar streaming + uploads).
 * Both against the same emulator, `--reps` times each (default 3), medians reported, plus the peak RSS
 * of the ingest process and the Redis memory used.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { startEmulator } from '@rfbatch/emulator';
import {
  createRoboflowClient,
  createQueues,
  closeQueues,
  eachLimited,
  ManifestEntry,
  readJsonLines,
  resolveRunSpec,
  RunSpecSchema,
  RunStore,
  runPaths,
  spawnRedis,
  uploadToSignedUrl,
} from '@rfbatch/shared';
import { packShard, planRun } from '@rfbatch/ingest';
import { pngBytes } from '@rfbatch/ingest/testing';
import { submitRun } from '@rfbatch/run-control';

const REPO = resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    'size-mb': { type: 'string', default: '1024' },
    images: { type: 'string', default: '10000' },
    reps: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '4' },
    'data-dir': { type: 'string', default: join(REPO, 'bench', '.data') },
    /**
     * Node flags of the ingest process. The default is the setting recommended for ingest processes
     * (services/ingest/README.md): a small young generation, which V8 otherwise grows to 32 MB.
     */
    'node-flags': { type: 'string', default: '--max-semi-space-size=2' },
    /** How the ingest process runs: `tsx` (as in this repo), `node` (an esbuild bundle), or `both`. */
    runner: { type: 'string', default: 'both' },
  },
});
const sizeMb = Number(args['size-mb']);
const images = Number(args.images);
const reps = Number(args.reps);
const concurrency = Number(args.concurrency);
const API_KEY = 'bench-key';

const log = (message: string) => process.stderr.write(`[bench:ingest] ${message}\n`);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round = (x: number, digits = 2) => Number(x.toFixed(digits));

/** Generates (once; cached under the data dir) `images` PNGs of about `sizeMb` in all, 100 per folder. */
async function dataset(): Promise<{ dir: string; bytes: number }> {
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

/** The baseline's input: the same manifest and shards rfbatch plans, packed once to tar files. */
async function prebuiltTars(src: string, work: string): Promise<string[]> {
  const spec = resolveRunSpec(
    RunSpecSchema.parse({
      runId: 'baseline',
      source: { kind: 'directory', path: src },
      workflow: { workflowId: 'w' },
      output: { dir: work },
    }),
  );
  const plan = await planRun(spec, work);
  const tars: string[] = [];
  for (const unit of plan.units) {
    const members = [];
    for await (const e of readJsonLines(runPaths(work, 'baseline').manifest, ManifestEntry, unit.range)) {
      members.push({
        name: e.name,
        path: join(plan.root!, e.source),
        source: e.source,
        size: e.size!,
        ...(e.mtimeMs ? { mtimeMs: e.mtimeMs } : {}),
      });
    }
    const file = join(work, `shard-${unit.n}.tar`);
    await pipeline(packShard(members).stream, createWriteStream(file));
    tars.push(file);
  }
  return tars;
}

function curlPut(url: string, headers: Record<string, string>, file: string): Promise<void> {
  const headerArgs = Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
  return new Promise((resolvePut, reject) => {
    const child = spawn('curl', ['-sS', '--fail', '-o', '/dev/null', '-T', file, ...headerArgs, url], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) =>
      code === 0 ? resolvePut() : reject(new Error(`curl exited ${code}: ${err.trim()}`)),
    );
  });
}

async function peakRssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
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

async function main(): Promise<void> {
  const { dir: src, bytes } = await dataset();
  const work = join(tmpdir(), `rfbatch-bench-ingest-${process.pid}`);
  await mkdir(work, { recursive: true });
  const runners: Runner[] = args.runner === 'both' ? ['tsx', 'node'] : [args.runner as Runner];
  const redisHandle = process.env.REDIS_URL
    ? { url: process.env.REDIS_URL, stop: async () => {} }
    : await spawnRedis();
  const emulator = await startEmulator({
    port: 0,
    apiKeys: [API_KEY],
    indexingDelayMs: 0,
    dataDir: join(work, 'emulator'),
  });
  const client = createRoboflowClient({ apiUrl: emulator.url, apiKey: API_KEY });
  const redis = new Redis(redisHandle.url, { maxRetriesPerRequest: 1 });
  const children = new Set<ChildProcess>();
  const bundle = join(work, 'ingest-main.mjs');
  try {
    log('packing the baseline tars');
    const tars = await prebuiltTars(src, join(work, 'baseline'));
    const tarBytes = (await Promise.all(tars.map((t) => stat(t)))).reduce((s, st) => s + st.size, 0);
    const useCurl = spawnSync('curl', ['--version'], { stdio: 'ignore' }).status === 0;
    if (runners.includes('node')) await bundleIngest(bundle);

    const baselineRep = async (rep: number): Promise<number> => {
      const batchId = `bench-baseline-${rep}`;
      const t0 = performance.now();
      await eachLimited(tars, concurrency, async (tar) => {
        const details = await client.requestShardUploadUrl(batchId);
        if (useCurl) await curlPut(details.uploadURL, details.extensionHeaders, tar);
        else await uploadToSignedUrl(details, createReadStream(tar), (await stat(tar)).size);
      });
      const seconds = (performance.now() - t0) / 1000;
      const count = await client.countBatch(batchId);
      if (count !== images) throw new Error(`baseline batch ${batchId} holds ${count} items, not ${images}`);
      return seconds;
    };

    const ingestRep = async (runner: Runner, rep: number): Promise<IngestRep> => {
      const tag = `${runner}-${rep}`;
      const prefix = `bench-ingest-${process.pid}-${tag}`;
      const env = {
        ...process.env,
        REDIS_URL: redisHandle.url,
        RFBATCH_PREFIX: prefix,
        RFBATCH_WORK_DIR: join(work, `ingest-${tag}`),
        ROBOFLOW_API_URL: emulator.url,
        ROBOFLOW_API_KEY: API_KEY,
        RFBATCH_INGEST_CONCURRENCY: String(concurrency),
        LOG_LEVEL: 'warn',
        // Recommended for ingest processes (README): fewer glibc arenas for the fs thread pool.
        MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2',
      };
      const flags = args['node-flags'].split(' ').filter(Boolean);
      const entry = runner === 'tsx' ? ['--import', 'tsx', 'services/ingest/src/main.ts'] : [bundle];
      const child = spawn(process.execPath, [...flags, ...entry], {
        cwd: REPO,
        env,
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      children.add(child);
      const queues = createQueues(redis, prefix);
      const store = new RunStore(redis, prefix);
      try {
        while ((await queues.ingest.getWorkers()).length === 0) await sleep(50);
        const idleRssMb = await peakRssMb(child.pid!);
        const before = await usedMemory(redis);
        const batchId = `bench-ingest-${tag}`;
        const t0 = performance.now();
        const { runId } = await submitRun(queues, store, {
          runId: `bench-${tag}`,
          batchId,
          source: { kind: 'directory', path: src },
          workflow: { workflowId: 'bench' },
          output: { dir: join(work, 'out') },
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
          peakRedis = Math.max(peakRedis, (await usedMemory(redis)).used);
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
          peakRssMb: await peakRssMb(child.pid!),
          idleRssMb,
          redisBytes: peakRedis - before.used,
          planSeconds: span(state.timings.plan),
          uploadSeconds: span(state.timings.upload),
        };
      } finally {
        child.kill('SIGTERM');
        if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
        children.delete(child);
        await closeQueues(queues);
      }
    };

    // Baseline and ingest reps alternate, so drift in the machine's load hits both sides alike.
    const baseline: number[] = [];
    const ingest: Record<Runner, IngestRep[]> = { tsx: [], node: [] };
    for (let rep = 0; rep < reps; rep++) {
      baseline.push(await baselineRep(rep));
      log(`baseline rep ${rep + 1}: ${baseline.at(-1)!.toFixed(2)} s`);
      for (const runner of runners) {
        const r = await ingestRep(runner, rep);
        ingest[runner].push(r);
        log(
          `ingest (${runner}) rep ${rep + 1}: ${r.seconds.toFixed(2)} s (plan ${r.planSeconds.toFixed(2)} s), peak RSS ${r.peakRssMb.toFixed(0)} MB (${r.idleRssMb.toFixed(0)} MB idle)`,
        );
      }
    }

    const mb = bytes / 1e6;
    const side = (times: number[]) => ({
      seconds: times.map((t) => round(t, 3)),
      medianSeconds: round(median(times), 3),
      MBps: round(mb / median(times)),
      imagesPerSecond: round(images / median(times), 1),
    });
    const ingestSide = (runs: IngestRep[]) => ({
      ...side(runs.map((r) => r.seconds)),
      ratio: round(median(baseline) / median(runs.map((r) => r.seconds)), 3),
      peakRssMb: round(Math.max(...runs.map((r) => r.peakRssMb)), 1),
      peakRssMbPerRep: runs.map((r) => round(r.peakRssMb, 1)),
      idleRssMb: round(median(runs.map((r) => r.idleRssMb)), 1),
      planSeconds: runs.map((r) => round(r.planSeconds, 3)),
      uploadSeconds: runs.map((r) => round(r.uploadSeconds, 3)),
      redisMemoryUsedMb: round(Math.max(...runs.map((r) => r.redisBytes)) / 1e6, 3),
    });
    const primary = runners[0]!;
    const result = {
      benchmark: 'ingest',
      dataset: { images, bytes, megabytes: round(mb, 1), shards: tars.length, tarBytes },
      setup: {
        reps,
        concurrency,
        cpus: cpus().length,
        loadAverage: loadavg().map((l) => round(l, 2)),
        node: process.version,
        nodeFlags: args['node-flags'],
        mallocArenaMax: process.env.MALLOC_ARENA_MAX ?? '2',
        baselineTool: useCurl ? 'curl -T' : 'undici PUT',
        runners,
      },
      baseline: side(baseline),
      rfbatch: Object.fromEntries(runners.map((r) => [r, ingestSide(ingest[r])])),
      ratio: round(median(baseline) / median(ingest[primary].map((r) => r.seconds)), 3),
      ingestPeakRssMb: round(Math.max(...ingest[primary].map((r) => r.peakRssMb)), 1),
      redisMemoryUsedMb: round(
        Math.max(...runners.flatMap((r) => ingest[r].map((x) => x.redisBytes))) / 1e6,
        3,
      ),
      goals: { ratio: '>= 0.8', peakRssMb: '<= 150' },
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    redis.disconnect();
    await client.close();
    await emulator.close();
    await redisHandle.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
