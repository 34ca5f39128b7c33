/**
 * End-to-end benchmark (`npm run bench:e2e`, prints JSON + a table): 10,000 images (tiny PNGs by
 * default), the emulator with zero indexing and processing time, `--reps` times each, alternating:
 *  (a) baseline: a lean direct client on the same data — PUT the ready-made tar shards with curl,
 *      poll the count every 100 ms, start the job, poll it every 100 ms, list the export, curl GET
 *      every archive and `tar xzf` it. What a careful script around the official API would do.
 *  (b) rfbatch: ingest, jobs, export and the gateway as separate processes (webhooks on, production
 *      poll intervals), from submit until the run is completed with its joined results.
 * Reports total times, rfbatch's own overhead — the time not spent waiting on the emulator's job or
 * moving bytes: total − (the job's own time on the emulator) − (the baseline's raw PUT and GET time
 * of the same bytes) — the stage times, and Redis commands and memory per image (a private Redis;
 * commands counted from INFO commandstats, including those run inside BullMQ's Lua scripts).
 * Goal: Redis commands per image well under 1 (work is per shard). `--quick`: 1,000 images.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  createRoboflowClient,
  eachLimited,
  resolveRunSpec,
  RunSpecSchema,
  Stage,
  type RoboflowClient,
} from '@rfbatch/shared';
import { imageSet } from './lib/data.js';
import { describeMachine } from './lib/machine.js';
import { fullRun, remoteJobSeconds, type FullRun } from './lib/full-run.js';
import { curlGet, curlPut, run, until } from './lib/proc.js';
import { emit, fmt, goalText, log as logger, row, type BenchResult } from './lib/report.js';
import { prebuildShards } from './lib/shards.js';
import { BENCH_API_KEY, startBenchStack, type BenchStack } from './lib/stack.js';
import { goal, median, round, speedRatio, summarize } from './lib/stats.js';
import { buildJobBody } from '@rfbatch/shared';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    images: { type: 'string' },
    'image-kb': { type: 'string', default: '0' },
    reps: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '4' },
    webhooks: { type: 'boolean', default: true },
    'no-webhooks': { type: 'boolean', default: false },
    'poll-min-ms': { type: 'string' },
    'poll-max-ms': { type: 'string' },
  },
});
const quick = args.quick;
const images = Number(args.images ?? (quick ? 1_000 : 10_000));
const imageBytes = Number(args['image-kb']) * 1024;
const reps = Math.max(1, Number(args.reps));
const concurrency = Number(args.concurrency);
const webhooks = args.webhooks && !args['no-webhooks'];
const POLL_MS = 100;
const log = logger('e2e');
const seconds = (from: number) => (performance.now() - from) / 1000;

interface BaselineRep {
  total: number;
  put: number;
  indexWait: number;
  job: number;
  remoteJob: number;
  get: number;
  extract: number;
}

async function baselineRep(
  stack: BenchStack,
  client: RoboflowClient,
  tars: string[],
  rep: number,
): Promise<BaselineRep> {
  const spec = resolveRunSpec(
    RunSpecSchema.parse({
      runId: `base-${rep}`,
      source: { kind: 'directory', path: '/' },
      workflow: { workflowId: 'bench-e2e' },
      output: { dir: '/' },
    }),
  );
  const workspace = await client.workspace();
  const dir = join(stack.workDir, `baseline-${rep}`);
  await mkdir(dir, { recursive: true });
  const t0 = performance.now();
  let t = t0;
  await eachLimited(tars, concurrency, async (tar) => {
    const details = await client.requestShardUploadUrl(spec.batchId);
    await curlPut(details.uploadURL, details.extensionHeaders, tar);
  });
  const put = seconds(t);
  t = performance.now();
  await until(
    'the count',
    async () => ((await client.countBatch(spec.batchId)) >= images ? true : undefined),
    600_000,
    POLL_MS,
  );
  const indexWait = seconds(t);
  t = performance.now();
  await client.startJob(spec.jobId, buildJobBody(spec, workspace));
  await until(
    'the job',
    async () => ((await client.getJob(spec.jobId)).state.terminal ? true : undefined),
    600_000,
    POLL_MS,
  );
  const job = seconds(t);
  t = performance.now();
  const files: { name: string; url: string }[] = [];
  const stages = await client.listStages(spec.jobId);
  for (const batchId of stages.find((s) => s.processingStageName === 'export')?.outputBatches ?? []) {
    for (const part of await client.listParts(batchId)) {
      for await (const f of client.listFiles(batchId, { partName: part.partName }))
        files.push({ name: `${part.partName}-${f.fileName}`, url: f.downloadURL });
    }
  }
  let getTime = 0;
  let extractTime = 0;
  await eachLimited(files, concurrency, async (f) => {
    const g = performance.now();
    await curlGet(f.url, join(dir, f.name));
    getTime += seconds(g);
    const x = performance.now();
    await mkdir(join(dir, `${f.name}.d`));
    await run('tar', ['xzf', join(dir, f.name), '-C', join(dir, `${f.name}.d`)]);
    extractTime += seconds(x);
  });
  const total = seconds(t0);
  // The GETs ran `concurrency` at once: their wall-clock share is the summed time over the overlap.
  const overlap = Math.min(concurrency, files.length);
  const get = getTime / overlap;
  const extract = extractTime / overlap;
  const remoteJob = await remoteJobSeconds(client, spec.jobId);
  await rm(dir, { recursive: true, force: true });
  return { total, put, indexWait, job, remoteJob, get, extract };
}

async function main(): Promise<void> {
  const data = await imageSet(
    { name: `e2e-${images}x${imageBytes}`, images, bytesPerImage: imageBytes },
    log,
  );
  const stack = await startBenchStack({ webhooks, jobStartDelayMs: 0 });
  const client = createRoboflowClient({ apiUrl: stack.emulator.url, apiKey: BENCH_API_KEY });
  try {
    log('packing the baseline tars');
    const shards = await prebuildShards(data.dir, join(stack.workDir, 'tars'));
    const base: BaselineRep[] = [];
    const ours: FullRun[] = [];
    for (let rep = 0; rep < reps; rep++) {
      base.push(await baselineRep(stack, client, shards.tars, rep));
      ours.push(
        await fullRun(stack, client, {
          src: data.dir,
          expected: images,
          label: `e2e${rep}`,
          webhooks,
          env: {
            ...(args['poll-min-ms'] ? { RFBATCH_POLL_MIN_MS: args['poll-min-ms'] } : {}),
            ...(args['poll-max-ms'] ? { RFBATCH_POLL_MAX_MS: args['poll-max-ms'] } : {}),
          },
        }),
      );
      const b = base.at(-1)!;
      const o = ours.at(-1)!;
      log(
        `rep ${rep + 1}/${reps}: baseline ${b.total.toFixed(2)} s (put ${b.put.toFixed(2)}, job ${b.job.toFixed(2)}, get ${b.get.toFixed(2)}), rfbatch ${o.total.toFixed(2)} s, ${(o.commands / images).toFixed(3)} cmds/image`,
      );
    }
    const col = <T>(xs: T[], f: (x: T) => number) => xs.map(f);
    const bytesMoved = { put: median(col(base, (b) => b.put)), get: median(col(base, (b) => b.get)) };
    const overhead = ours.map((o) => o.total - o.remoteJob - bytesMoved.put - bytesMoved.get);
    const cmdsPerImage = median(col(ours, (o) => o.commands)) / images;
    const bytesPerImage = median(col(ours, (o) => o.runKeysBytes)) / images;
    const ratio = speedRatio(
      col(base, (b) => b.total),
      col(ours, (o) => o.total),
    );
    const goals = [goal('Redis commands per image', cmdsPerImage, '<=', 0.5)];
    const stageNames = Stage.options.filter((s) => ours.some((o) => o.stages[s] !== undefined));
    const result: BenchResult = {
      benchmark: 'e2e',
      quick,
      machine: describeMachine(),
      setup: {
        reps,
        concurrency,
        webhooks,
        pollMs: {
          baseline: POLL_MS,
          rfbatch: args['poll-min-ms']
            ? `${args['poll-min-ms']}..${args['poll-max-ms'] ?? 'default'}`
            : 'defaults (1 s growing to 30 s)',
        },
        emulator: { indexingDelayMs: 0, processingMsPerItem: 0, jobStartDelayMs: 0 },
        privateRedis: stack.privateRedis,
      },
      dataset: { images, sourceBytes: data.bytes, shards: shards.tars.length, tarBytes: shards.bytes },
      baseline: {
        totalSeconds: summarize(col(base, (b) => b.total)),
        putSeconds: summarize(col(base, (b) => b.put)),
        indexWaitSeconds: summarize(col(base, (b) => b.indexWait)),
        jobSeconds: summarize(col(base, (b) => b.job)),
        remoteJobSeconds: summarize(col(base, (b) => b.remoteJob)),
        getSeconds: summarize(col(base, (b) => b.get)),
        extractSeconds: summarize(col(base, (b) => b.extract)),
      },
      rfbatch: {
        totalSeconds: summarize(col(ours, (o) => o.total)),
        remoteJobSeconds: summarize(col(ours, (o) => o.remoteJob)),
        overheadSeconds: summarize(overhead),
        overheadShare: round(median(overhead) / median(col(ours, (o) => o.total)), 3),
        stageSeconds: Object.fromEntries(
          stageNames.map((s) => [s, summarize(col(ours, (o) => o.stages[s] ?? Number.NaN))]),
        ),
        redis: {
          commands: summarize(
            col(ours, (o) => o.commands),
            0,
          ),
          commandsPerImage: round(cmdsPerImage, 4),
          luaScriptCalls: summarize(
            col(ours, (o) => o.scripts),
            0,
          ),
          topCommandsLastRep: ours.at(-1)!.topCommands,
          runKeys: median(col(ours, (o) => o.runKeys)),
          runBytes: summarize(
            col(ours, (o) => o.runKeysBytes),
            0,
          ),
          bytesPerImage: round(bytesPerImage, 2),
          usedMemoryPeakDeltaBytes: summarize(
            col(ours, (o) => o.usedPeakDelta),
            0,
          ),
        },
        peakRssMbLastRep: ours.at(-1)!.peakRssMb,
      },
      ratio,
      overheadDefinition:
        'rfbatch total − the remote job’s own time on the emulator (created → last stage event) − the baseline’s raw curl PUT and GET time of the same bytes',
      goals,
      rows: [
        row('e2e', `${images} images end to end`, {
          rfbatch: fmt.s(median(col(ours, (o) => o.total))),
          baseline: fmt.s(median(col(base, (b) => b.total))),
          ratio: fmt.n(ratio),
        }),
        row('e2e', 'rfbatch own overhead', {
          rfbatch: `${fmt.s(median(overhead))} (${Math.round((median(overhead) / median(col(ours, (o) => o.total))) * 100)} %)`,
        }),
        row('e2e', 'Redis commands / image', { rfbatch: fmt.n(cmdsPerImage, 3), goal: goalText(goals[0]) }),
        row('e2e', 'Redis memory / image (run keys)', { rfbatch: `${bytesPerImage.toFixed(1)} B` }),
      ],
    };
    emit(result);
  } finally {
    await client.close();
    await stack.close();
  }
}

await main();
