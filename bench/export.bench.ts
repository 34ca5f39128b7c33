/**
 * Export benchmark (`npm run bench:export`, prints JSON + a table). Per variant, one real run
 * (ingest → job with `persistImagesOutputs` → export) makes a large export: by default 2,000 PNGs,
 * 1 GiB in all, packed by the emulator into `.tar.gz` archives (one per `--images-per-shard` images).
 * Then, `--reps` times each and alternating, on the same emulator and the same export:
 *  (a) raw baseline: `curl` GETs of the listed signed URLs (`--concurrency` at once), and, timed apart,
 *      `tar xzf` of what curl fetched;
 *  (b) official-client baseline (lib/official-client.ts): 8 lanes, each GETting one archive with `curl`
 *      into a temporary file, then `tar x` of it into the part's folder; timed end to end;
 *  (c) rfbatch: the export service (its own process) downloading, safely extracting and joining the
 *      same job's outputs for a fresh run (collect → download → finalize). rfbatch always extracts:
 *      with `output.extract: false` it keeps the archives packed in the output folder but still
 *      extracts them privately to join the results, so there is no download-only rfbatch side.
 * Variants (`--variants both|uncapped|capped`, default both): `uncapped`, and `capped`, on a stack
 * whose emulator caps every connection at `--throttle-bytes-per-second` (2,000,000), with its own,
 * smaller data set (`--capped-size-mb`, 218 MB; 16 MB with `--quick`) since a capped link is slow.
 * Goals per variant: rfbatch ≥ 2 × the official client's speed, ≥ 0.8 × the raw GETs'.
 * `--quick` = 200 images (64 MiB; capped 16 MiB), 25 per archive (8 archives), 3 reps.
 */
import { cp, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  createRoboflowClient,
  eachLimited,
  enqueue,
  runPaths,
  stageJobId,
  type RunState,
} from '@rfbatch/shared';
import { imageSet } from './lib/data.js';
import { describeMachine } from './lib/machine.js';
import { OFFICIAL_LANES, officialExport, type ExportArchive } from './lib/official-client.js';
import { cpuMs, curlGet, run } from './lib/proc.js';
import { emit, fmt, goalText, log as logger, row, type BenchResult, type TableRow } from './lib/report.js';
import { BENCH_API_KEY, startBenchStack } from './lib/stack.js';
import { goal, median, round, speedRatio, summarize, type Goal } from './lib/stats.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    images: { type: 'string' },
    'size-mb': { type: 'string' },
    'capped-size-mb': { type: 'string' },
    reps: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '4' },
    'images-per-shard': { type: 'string' },
    /** `both` (default), `uncapped` or `capped`. */
    variants: { type: 'string', default: 'both' },
    'throttle-bytes-per-second': { type: 'string', default: '2000000' },
  },
});
const quick = args.quick;
const images = Number(args.images ?? (quick ? 200 : 2_000));
const reps = Math.max(1, Number(args.reps));
const concurrency = Number(args.concurrency);
const perShard = Number(args['images-per-shard'] ?? (quick ? 25 : 100));
const throttleBps = Number(args['throttle-bytes-per-second']);
const log = logger('export');

type Variant = 'uncapped' | 'capped';
const VARIANTS: Variant[] = args.variants === 'both' ? ['uncapped', 'capped'] : [args.variants as Variant];
for (const v of VARIANTS)
  if (v !== 'uncapped' && v !== 'capped')
    throw new Error(`--variants: "${args.variants}" is not both, uncapped or capped`);
const SIZE_MB: Record<Variant, number> = {
  uncapped: Number(args['size-mb'] ?? (quick ? 64 : 1_024)),
  capped: Number(args['capped-size-mb'] ?? (quick ? 16 : 218)),
};
const capLabel = (v: Variant) =>
  v === 'capped' ? `capped at ${(throttleBps / 1e6).toFixed(1)} MB/s per connection` : 'no cap';

/** Files and bytes under `dir`, recursively. */
async function treeSize(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    files++;
    bytes += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return { files, bytes };
}

/** One variant: its own stack (capped or not), its setup run, then the baselines and rfbatch. */
async function measure(variant: Variant) {
  const sizeMb = SIZE_MB[variant];
  const throttle = variant === 'capped' ? throttleBps : undefined;
  const data = await imageSet(
    {
      name: `export-${images}x${sizeMb}mb`,
      images,
      bytesPerImage: Math.floor((sizeMb * 1024 * 1024) / images),
    },
    log,
  );
  const stack = await startBenchStack(throttle ? { throttleBytesPerSecond: throttle } : {});
  const client = createRoboflowClient({ apiUrl: stack.emulator.url, apiKey: BENCH_API_KEY });
  const prefix = `bexp-${variant}`;
  try {
    const procs = await stack.startServices(prefix, ['ingest', 'jobs', 'export'], {
      RFBATCH_POLL_MIN_MS: '200',
      RFBATCH_POLL_MAX_MS: '1000',
    });
    const exporter = procs.find((p) => p.name.startsWith('export'))!;
    const producer = stack.producer(prefix);
    const out = (name: string) => join(stack.workDir, 'out', name);

    // The export to measure: one whole run whose job keeps the input images in its export archives.
    log(
      `${variant}: setting up a run over ${images} images (${(data.bytes / 1e6).toFixed(0)} MB) with persistImagesOutputs`,
    );
    const t0 = performance.now();
    const setupRun = await producer.submit({
      runId: 'export-setup',
      source: { kind: 'directory', path: data.dir },
      workflow: { workflowId: 'bench-export', persistImagesOutputs: true },
      upload: { shardMaxImages: perShard },
      output: { dir: out('setup') },
    });
    const setup = await stack.waitForRun(prefix, setupRun, 3_600_000);
    if (setup.status !== 'completed')
      throw new Error(`the setup run ended ${setup.status}: ${JSON.stringify(setup.error)}`);
    const setupSeconds = (performance.now() - t0) / 1000;
    const spec = await producer.store.spec(setupRun);
    const extracted = await treeSize(join(out('setup'), 'outputs'));
    log(
      `${variant}: setup run done in ${setupSeconds.toFixed(1)} s: export extracts to ${extracted.files} files, ${(extracted.bytes / 1e6).toFixed(0)} MB`,
    );

    // The baselines' URLs: the export stage's output batch, listed like the official CLI does.
    const stages = await client.listStages(spec.jobId);
    const exportBatches = stages.find((s) => s.processingStageName === 'export')?.outputBatches ?? [];
    const archives: ExportArchive[] = [];
    for (const batchId of exportBatches) {
      for (const part of await client.listParts(batchId)) {
        for await (const f of client.listFiles(batchId, { partName: part.partName }))
          archives.push({ partName: part.partName, fileName: f.fileName, url: f.downloadURL });
      }
    }
    if (archives.length === 0) throw new Error('the export stage listed no files');
    const files = archives.map((a) => ({ name: `${a.partName}-${a.fileName}`, url: a.url }));

    const baseline: number[] = [];
    const baselineExtract: number[] = [];
    const official: number[] = [];
    let officialFiles = 0;
    const rfbatch: number[] = [];
    const stageSeconds: Record<string, number[]> = {};
    const exportCpu: number[] = [];
    let downloadedBytes = 0;
    for (let rep = 0; rep < reps; rep++) {
      // (a) curl GETs, then tar xzf of what they fetched.
      const dir = join(stack.workDir, `curl-${rep}`);
      await mkdir(join(dir, 'x'), { recursive: true });
      let t = performance.now();
      await eachLimited(files, concurrency, (f) => curlGet(f.url, join(dir, f.name)));
      baseline.push((performance.now() - t) / 1000);
      downloadedBytes = (await treeSize(dir)).bytes;
      t = performance.now();
      await eachLimited(files, concurrency, async (f) => {
        const into = join(dir, 'x', f.name);
        await mkdir(into);
        await run('tar', ['xzf', join(dir, f.name), '-C', into]);
      });
      baselineExtract.push((performance.now() - t) / 1000);
      await rm(dir, { recursive: true, force: true });

      // (b) the official client's shape: 8 lanes of GET, then tar x, per archive.
      const odir = join(stack.workDir, `official-${rep}`);
      official.push(await officialExport({ archives, dir: odir }));
      officialFiles = (await treeSize(odir)).files;
      await rm(odir, { recursive: true, force: true });

      // (c) rfbatch's export of the same job for a fresh run (same manifest, so results join).
      const runId = `export-rep-${rep}`;
      const repOut = out(runId);
      await producer.store.create({ ...spec, runId, output: { dir: repOut, extract: true } });
      await cp(
        runPaths(join(stack.workDir, 'work'), setupRun).dir,
        runPaths(join(stack.workDir, 'work'), runId).dir,
        {
          recursive: true,
          filter: (src) => !/downloads\.jsonl|[/]raw($|[/])/.test(src),
        },
      );
      const cpu0 = cpuMs(exporter.child.pid!);
      t = performance.now();
      await enqueue(
        producer.queues,
        'export',
        'collect',
        { runId, attempt: 0 },
        { jobId: stageJobId('collect', runId) },
      );
      const state: RunState = await stack.waitForRun(prefix, runId, 3_600_000);
      rfbatch.push((performance.now() - t) / 1000);
      exportCpu.push(cpuMs(exporter.child.pid!) - cpu0);
      if (state.status !== 'completed')
        throw new Error(`export rep ${rep} ended ${state.status}: ${JSON.stringify(state.error)}`);
      const got = await treeSize(join(repOut, 'outputs'));
      if (got.files !== extracted.files)
        throw new Error(`export rep ${rep} extracted ${got.files} files, not ${extracted.files}`);
      for (const [stage, timing] of Object.entries(state.timings)) {
        if (timing?.endedAt)
          (stageSeconds[stage] ??= []).push(
            (Date.parse(timing.endedAt) - Date.parse(timing.startedAt)) / 1000,
          );
      }
      await rm(repOut, { recursive: true, force: true });
      await rm(join(runPaths(join(stack.workDir, 'work'), runId).dir), { recursive: true, force: true });
      log(
        `${variant} rep ${rep + 1}/${reps}: curl ×${concurrency} ${baseline.at(-1)!.toFixed(2)} s (+ tar ${baselineExtract.at(-1)!.toFixed(2)} s), official ×${OFFICIAL_LANES} GET + tar x ${official.at(-1)!.toFixed(2)} s, rfbatch ${rfbatch.at(-1)!.toFixed(2)} s (export process CPU ${(exportCpu.at(-1)! / 1000).toFixed(1)} s)`,
      );
    }

    const mb = downloadedBytes / 1e6;
    const withExtract = baseline.map((b, i) => b + baselineExtract[i]!);
    return {
      throttleBytesPerSecond: throttle ?? null,
      dataset: {
        images,
        sourceBytes: data.bytes,
        archives: files.length,
        archiveBytes: downloadedBytes,
        extractedFiles: extracted.files,
        extractedBytes: extracted.bytes,
        officialExtractedFiles: officialFiles,
      },
      setupRunSeconds: round(setupSeconds, 1),
      baseline: {
        getSeconds: summarize(baseline),
        extractSeconds: summarize(baselineExtract),
        getMBps: round(mb / median(baseline)),
      },
      /** 8 lanes of curl GET + tar x + rm, end to end. */
      official: { lanes: OFFICIAL_LANES, seconds: summarize(official), MBps: round(mb / median(official)) },
      rfbatch: {
        seconds: summarize(rfbatch),
        MBps: round(mb / median(rfbatch)),
        stageSeconds: Object.fromEntries(Object.entries(stageSeconds).map(([k, v]) => [k, summarize(v)])),
        exportPeakRssMb: round(exporter.peakRssMb(), 1),
        /** CPU time of the export process per repetition (user + system). */
        exportCpuSeconds: summarize(exportCpu.map((c) => c / 1000)),
      },
      /** raw curl GETs / rfbatch. */
      ratio: speedRatio(baseline, rfbatch),
      /** (raw curl GETs + tar xzf timed apart) / rfbatch. */
      ratioWithExtract: speedRatio(withExtract, rfbatch),
      /** official client's shape (8 × GET + tar x) / rfbatch. */
      ratioOfficial: speedRatio(official, rfbatch),
      megabytes: mb,
      medians: {
        rfbatch: median(rfbatch),
        get: median(baseline),
        withExtract: median(withExtract),
        official: median(official),
        cpu: median(exportCpu) / 1000,
      },
    };
  } finally {
    await client.close();
    await stack.close();
  }
}

async function main(): Promise<void> {
  const variants: Partial<Record<Variant, Awaited<ReturnType<typeof measure>>>> = {};
  for (const variant of VARIANTS) variants[variant] = await measure(variant);

  const goals: Goal[] = [];
  const rows: TableRow[] = [];
  for (const variant of VARIANTS) {
    const v = variants[variant]!;
    const vsOfficial = goal(
      `${capLabel(variant)}: extracted, vs official client (${OFFICIAL_LANES} × GET + tar x)`,
      v.ratioOfficial,
      '>=',
      2.0,
    );
    const vsRaw = goal(`${capLabel(variant)}: vs raw curl GETs ×${concurrency}`, v.ratio, '>=', 0.8);
    goals.push(vsOfficial, vsRaw);
    const m = v.medians;
    rows.push(
      row(
        'export',
        `download + extract ${v.dataset.archives} archives, ${v.megabytes.toFixed(0)} MB, ${capLabel(variant)}`,
        {
          rfbatch: fmt.mbps(v.megabytes / m.rfbatch),
          baseline: `${fmt.mbps(v.megabytes / m.get)} curl ×${concurrency}`,
          ratio: fmt.n(v.ratio),
          goal: goalText(vsRaw),
        },
      ),
      row('export', `… vs official client: ${OFFICIAL_LANES} × (curl GET + tar x)`, {
        rfbatch: fmt.s(m.rfbatch),
        baseline: fmt.s(m.official),
        ratio: fmt.n(v.ratioOfficial),
        goal: goalText(vsOfficial),
      }),
      row('export', `… vs curl ×${concurrency}, then tar xzf (${v.dataset.extractedFiles} files)`, {
        rfbatch: fmt.s(m.rfbatch),
        baseline: fmt.s(m.withExtract),
        ratio: fmt.n(v.ratioWithExtract),
      }),
      row('export', '… export process CPU time', { rfbatch: fmt.s(m.cpu) }),
    );
  }

  // The first variant also fills the fields of the single-variant shape.
  const strip = (v: Awaited<ReturnType<typeof measure>>) => {
    const { medians: _medians, megabytes: _megabytes, ...rest } = v;
    return rest;
  };
  const first = strip(variants[VARIANTS[0]!]!);
  const result: BenchResult = {
    benchmark: 'export',
    quick,
    machine: describeMachine(),
    setup: {
      reps,
      concurrency,
      officialLanes: OFFICIAL_LANES,
      imagesPerShard: perShard,
      variants: VARIANTS,
      throttleBytesPerSecond: throttleBps,
      baselineTool: 'curl (GET) + tar xzf',
      rfbatchExport: 'export service process, default options',
    },
    variants: Object.fromEntries(VARIANTS.map((v) => [v, strip(variants[v]!)])),
    ...first,
    goals,
    rows,
  };
  emit(result);
}

await main();
