/**
 * Scale benchmark (`npm run bench:scale`, prints JSON + a table), three parts:
 *
 * 1. Planning a folder of many small files (default 200,000 tiny PNGs in 200 folders): the ingest
 *    service (its own process) from submit until the plan is written and every upload job is added —
 *    time, the process's peak RSS, and the Redis memory the run then holds (its keys, MEMORY USAGE).
 *    Uploads are held back (the emulator answers 429 to upload-URL requests) so only planning is measured.
 *    Baseline: `find <dir> -type f -printf '%s %p\n'`, the least any planner must do (walk + stat).
 * 2. Spreading uploads over ingest worker processes: with the emulator capping every connection's
 *    bandwidth (`throttleBytesPerSecond`), the same folder ingested by 1, 2 and 4 ingest processes
 *    (submit → hand-off to verification). Goal: 4 processes ≥ 3× as fast as one.
 * 3. A whole run of 10^6 files of 1 KiB (`--full-files`, `--full-file-kb`) through every stage, beside
 *    the same run of 1,000 files: peak RSS of each service process (goal ≤ 150 MB for ingest and
 *    export), stage times, Redis commands per file. One rep of each (10^6 takes tens of minutes).
 * Each measurement is repeated `--reps` times (default 3); medians and ratios are reported.
 * `--quick`: 20,000 files to plan; 800 images (8 shards) to spread; 20,000 files in the full run. Default: 6,400 images of 20 KiB in
 * 64 shards, 1 MiB/s per connection, 2 upload jobs at once per ingest process.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createRoboflowClient, RunStore } from '@rfbatch/shared';
import { imageSet } from './lib/data.js';
import { describeMachine } from './lib/machine.js';
import { run, until, type ServiceProcess } from './lib/proc.js';
import { emit, fmt, goalText, log as logger, row, type BenchResult } from './lib/report.js';
import { fullRun } from './lib/full-run.js';
import { BENCH_API_KEY, startBenchStack, type BenchStack } from './lib/stack.js';
import { goal, median, round, speedRatio, summarize } from './lib/stats.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    reps: { type: 'string', default: '3' },
    'plan-files': { type: 'string' },
    'spread-images': { type: 'string' },
    'spread-image-kb': { type: 'string', default: '20' },
    'images-per-shard': { type: 'string', default: '100' },
    'throttle-kbps': { type: 'string' },
    'worker-concurrency': { type: 'string', default: '2' },
    workers: { type: 'string', default: '1,2,4' },
    'skip-plan': { type: 'boolean', default: false },
    'skip-spread': { type: 'boolean', default: false },
    'full-files': { type: 'string' },
    'full-file-kb': { type: 'string', default: '1' },
    'skip-full': { type: 'boolean', default: false },
  },
});
const quick = args.quick;
const reps = Math.max(1, Number(args.reps));
const planFiles = Number(args['plan-files'] ?? (quick ? 20_000 : 200_000));
const spreadImages = Number(args['spread-images'] ?? (quick ? 800 : 6_400));
const spreadImageBytes = Number(args['spread-image-kb']) * 1024;
const perShard = Number(args['images-per-shard']);
const throttleBps = Number(args['throttle-kbps'] ?? 1024) * 1024;
const workerConcurrency = Number(args['worker-concurrency']);
const workerCounts = args.workers.split(',').map(Number);
const fullFiles = Number(args['full-files'] ?? (quick ? 20_000 : 1_000_000));
const fullFileBytes = Number(args['full-file-kb']) * 1024;
const FULL_SMALL_FILES = 1_000;
const log = logger('scale');

async function planPart(stack: BenchStack) {
  const data = await imageSet(
    { name: `scale-plan-${planFiles}`, images: planFiles, bytesPerImage: 0, perFolder: 1_000 },
    log,
  );
  const listing = join(stack.workDir, 'find.txt');
  const find = () =>
    run('sh', ['-c', `find "$1" -type f -printf '%s %p\\n' > "$2"`, 'sh', data.dir, listing]);
  await find(); // warm the page cache for both sides

  const baseline: number[] = [];
  const seconds: number[] = [];
  const planStage: number[] = [];
  const rss: number[] = [];
  const idleRss: number[] = [];
  const runKeysBytes: number[] = [];
  const runKeys: number[] = [];
  const usedDelta: number[] = [];
  let shards = 0;
  for (let rep = 0; rep < reps; rep++) {
    let t = performance.now();
    await find();
    baseline.push((performance.now() - t) / 1000);

    const prefix = `bplan${rep}`;
    // This run's upload-URL requests answer 429 with a Retry-After of an hour, so the upload jobs
    // added by the plan idle (their queue is rate-limited) and only planning is measured.
    stack.emulator.setFaults({
      pathPrefix: `/data-staging/v1/external/local/batches/rfb-plan-${rep}/bulk-upload`,
      rateLimitRate: 1,
      retryAfterS: 3600,
    });
    const [ingest] = (await stack.startServices(prefix, ['ingest'])) as [ServiceProcess];
    idleRss.push(ingest.peakRssMb());
    const producer = stack.producer(prefix);
    const before = await stack.probe.usedMemory();
    t = performance.now();
    const runId = await producer.submit({
      runId: `plan-${rep}`,
      source: { kind: 'directory', path: data.dir },
      workflow: { workflowId: 'bench-scale' },
      output: { dir: join(stack.workDir, 'out', `plan-${rep}`) },
    });
    const store = new RunStore(stack.probe.redis, prefix);
    await until(
      'the plan to add its upload jobs',
      async () => {
        const state = await store.get(runId);
        if (state?.status === 'failed') throw new Error(`plan failed: ${JSON.stringify(state.error)}`);
        return (await stack.probe.redis.sismember(store.key(runId, 'done'), 'children:a0'))
          ? true
          : undefined;
      },
      1_800_000,
      100,
    );
    seconds.push((performance.now() - t) / 1000);
    rss.push(ingest.peakRssMb());
    const state = await store.require(runId);
    const timing = state.timings.plan;
    if (timing?.endedAt) planStage.push((Date.parse(timing.endedAt) - Date.parse(timing.startedAt)) / 1000);
    if (state.counters.planned !== planFiles)
      throw new Error(`planned ${state.counters.planned} files, not ${planFiles}`);
    shards = state.counters.shardsTotal;
    const mem = await stack.probe.prefixMemory(prefix);
    runKeysBytes.push(mem.bytes);
    runKeys.push(mem.keys);
    usedDelta.push((await stack.probe.usedMemory()) - before);
    await ingest.stop('SIGKILL');
    await producer.close();
    await stack.probe.dropPrefix(prefix);
    await rm(join(stack.workDir, 'work', 'runs', runId), { recursive: true, force: true });
    log(
      `plan rep ${rep + 1}/${reps}: find ${baseline.at(-1)!.toFixed(2)} s, rfbatch ${seconds.at(-1)!.toFixed(2)} s, peak RSS ${rss.at(-1)!.toFixed(0)} MB, run keys ${(mem.bytes / 1e6).toFixed(2)} MB`,
    );
  }
  stack.emulator.setFaults({ pathPrefix: '', rateLimitRate: 0 });
  const ratio = speedRatio(baseline, seconds);
  return {
    files: planFiles,
    shards,
    baselineFindSeconds: summarize(baseline),
    rfbatchSeconds: summarize(seconds),
    planStageSeconds: summarize(planStage),
    filesPerSecond: round(planFiles / median(seconds), 0),
    ratio,
    ingestPeakRssMb: summarize(rss, 1),
    /** The same process's peak before the run (runtime, tsx, libraries): the plan's own share is the difference. */
    ingestIdleRssMb: summarize(idleRss, 1),
    runRedisBytes: summarize(runKeysBytes, 0),
    runRedisKeys: median(runKeys),
    redisUsedMemoryDeltaBytes: summarize(usedDelta, 0),
    redisBytesPerFile: round(median(runKeysBytes) / planFiles, 3),
  };
}

async function spreadPart(stack: BenchStack) {
  const data = await imageSet(
    {
      name: `scale-spread-${spreadImages}x${spreadImageBytes}`,
      images: spreadImages,
      bytesPerImage: spreadImageBytes,
    },
    log,
  );
  const env = { RFBATCH_INGEST_CONCURRENCY: String(workerConcurrency) };
  const times = new Map<number, number[]>(workerCounts.map((n) => [n, []]));
  for (let rep = 0; rep < reps; rep++) {
    for (const n of workerCounts) {
      const prefix = `bspread${n}r${rep}`;
      const procs = await stack.startServices(
        prefix,
        Array.from({ length: n }, () => 'ingest' as const),
        env,
      );
      const producer = stack.producer(prefix);
      const t = performance.now();
      const runId = await producer.submit({
        runId: `spread-${n}-${rep}`,
        source: { kind: 'directory', path: data.dir },
        workflow: { workflowId: 'bench-scale' },
        upload: { shardMaxImages: perShard },
        output: { dir: join(stack.workDir, 'out', `spread-${n}-${rep}`) },
      });
      const store = new RunStore(stack.probe.redis, prefix);
      const state = await until(
        'the ingest to hand off',
        async () => {
          const s = await store.get(runId);
          return s && ['verifying', 'failed'].includes(s.status) ? s : undefined;
        },
        1_800_000,
        50,
      );
      if (state.status === 'failed')
        throw new Error(`ingest with ${n} workers failed: ${JSON.stringify(state.error)}`);
      times.get(n)!.push((performance.now() - t) / 1000);
      await Promise.all(procs.map((p) => p.stop('SIGTERM')));
      await producer.close();
      await stack.probe.dropPrefix(prefix);
      log(`spread rep ${rep + 1}/${reps}: ${n} ingest process(es) ${times.get(n)!.at(-1)!.toFixed(2)} s`);
    }
  }
  const one = times.get(workerCounts[0]!)!;
  return {
    images: spreadImages,
    bytes: data.bytes,
    shards: Math.ceil(spreadImages / perShard),
    throttleBytesPerSecondPerConnection: throttleBps,
    workerConcurrency,
    seconds: Object.fromEntries([...times].map(([n, v]) => [`${n}`, summarize(v)])),
    speedup: Object.fromEntries([...times].map(([n, v]) => [`${n}`, speedRatio(one, v)])),
  };
}

/**
 * 3. A whole run (plan, upload, verify, job, export, finalize; services as processes, no bandwidth
 * cap) of `--full-files` files of 1 KiB (default 10^6), beside the same run of 1,000 files: the
 * processes' peak RSS must not grow with the run (goal ≤ 150 MB for ingest and export at 10^6).
 */
async function fullPart() {
  const big = await imageSet(
    { name: `scale-full-${fullFiles}x${fullFileBytes}`, images: fullFiles, bytesPerImage: fullFileBytes },
    log,
  );
  const small = await imageSet(
    {
      name: `scale-full-${FULL_SMALL_FILES}x${fullFileBytes}`,
      images: FULL_SMALL_FILES,
      bytesPerImage: fullFileBytes,
    },
    log,
  );
  const stack = await startBenchStack({ webhooks: true, jobStartDelayMs: 0 });
  const client = createRoboflowClient({ apiUrl: stack.emulator.url, apiKey: BENCH_API_KEY });
  try {
    await mkdir(join(stack.workDir, 'out'), { recursive: true });
    const runOf = (src: string, expected: number, label: string) =>
      fullRun(stack, client, {
        src,
        expected,
        label,
        webhooks: true,
        timeoutMs: 2 * 3600_000,
        onProgress: (line) => log(`full run of ${expected}: ${line}`),
      });
    log(`full run of ${FULL_SMALL_FILES} files`);
    const few = await runOf(small.dir, FULL_SMALL_FILES, 'full-small');
    log(`full run of ${fullFiles} files`);
    const many = await runOf(big.dir, fullFiles, 'full-big');
    const shape = (r: typeof few, files: number) => ({
      files,
      totalSeconds: round(r.total, 2),
      filesPerSecond: round(files / r.total, 0),
      stageSeconds: Object.fromEntries(Object.entries(r.stages).map(([k, v]) => [k, round(v, 2)])),
      peakRssMb: r.peakRssMb,
      redisCommandsPerFile: round(r.commands / files, 4),
      redisRunBytes: r.runKeysBytes,
    });
    return { fileBytes: fullFileBytes, small: shape(few, FULL_SMALL_FILES), big: shape(many, fullFiles) };
  } finally {
    await client.close();
    await stack.close();
  }
}

/** The peak RSS of a service's process (named `ingest-0`, `export-2`, …) in a full run's figures. */
function rssOf(peakRssMb: Record<string, number>, service: string): number {
  return Object.entries(peakRssMb).find(([name]) => name.replace(/-\d+$/, '') === service)?.[1] ?? Number.NaN;
}

/** Parts 1 and 2, on a stack whose emulator caps every connection's bandwidth. */
async function throttledParts() {
  const stack = await startBenchStack({ throttleBytesPerSecond: throttleBps });
  try {
    await mkdir(join(stack.workDir, 'out'), { recursive: true });
    const plan = args['skip-plan'] ? undefined : await planPart(stack);
    const spread = args['skip-spread'] ? undefined : await spreadPart(stack);
    return { plan, spread, privateRedis: stack.privateRedis };
  } finally {
    await stack.close();
  }
}

async function main(): Promise<void> {
  const { plan, spread, privateRedis } = await throttledParts();
  const full = args['skip-full'] ? undefined : await fullPart();
  const most = workerCounts.at(-1)!;
  const speedup = spread?.speedup[`${most}`];
  const goals =
    speedup === undefined
      ? []
      : [goal(`${most} ingest processes vs ${workerCounts[0]}`, speedup, '>=', 3, '×')];
  if (full) {
    for (const service of ['ingest', 'export'])
      goals.push(
        goal(
          `peak RSS of ${service}, ${full.big.files} files`,
          rssOf(full.big.peakRssMb, service),
          '<=',
          150,
          ' MB',
        ),
      );
  }
  const rows = [];
  if (plan) {
    rows.push(
      row('scale', `plan ${plan.files} files (${plan.shards} shards)`, {
        rfbatch: fmt.s(plan.rfbatchSeconds.median),
        baseline: `${fmt.s(plan.baselineFindSeconds.median)} find`,
        ratio: fmt.n(plan.ratio),
      }),
      row('scale', 'plan: ingest peak RSS (idle)', {
        rfbatch: `${fmt.mb(plan.ingestPeakRssMb.median)} (${fmt.mb(plan.ingestIdleRssMb.median)})`,
      }),
      row('scale', 'plan: Redis memory of the run', {
        rfbatch: `${(plan.runRedisBytes.median / 1e6).toFixed(2)} MB (${plan.redisBytesPerFile} B/file)`,
      }),
    );
  }
  if (spread) {
    for (const n of workerCounts) {
      rows.push(
        row('scale', `ingest ${spread.shards} shards, ${n} process(es)`, {
          rfbatch: fmt.s(spread.seconds[`${n}`]!.median),
          baseline: n === workerCounts[0] ? '' : `${fmt.s(spread.seconds[`${workerCounts[0]}`]!.median)} (1)`,
          ratio: fmt.x(spread.speedup[`${n}`]!),
          goal: n === most ? goalText(goals[0]) : '',
        }),
      );
    }
  }
  if (full) {
    for (const service of ['ingest', 'jobs', 'export']) {
      rows.push(
        row('scale', `full run, ${full.big.files} files: ${service} peak RSS`, {
          rfbatch: fmt.mb(rssOf(full.big.peakRssMb, service)),
          baseline: `${fmt.mb(rssOf(full.small.peakRssMb, service))} (${full.small.files} files)`,
          goal:
            service === 'jobs'
              ? ''
              : goalText(goals.find((g) => g.name.startsWith(`peak RSS of ${service},`))),
        }),
      );
    }
    rows.push(
      row('scale', `full run, ${full.big.files} files: total`, {
        rfbatch: `${fmt.s(full.big.totalSeconds)} (${full.big.filesPerSecond} files/s)`,
        baseline: `${fmt.s(full.small.totalSeconds)} (${full.small.files} files)`,
      }),
    );
  }
  const result: BenchResult = {
    benchmark: 'scale',
    quick,
    machine: describeMachine(),
    setup: { reps, privateRedis, full: { files: fullFiles, fileBytes: fullFileBytes, throttle: 'none' } },
    plan,
    spread,
    full,
    goals,
    rows,
  };
  emit(result);
}

await main();
