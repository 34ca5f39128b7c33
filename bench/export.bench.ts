/**
 * Export benchmark (`npm run bench:export`, prints JSON + a table). One real run (ingest → job with
 * `persistImagesOutputs` → export) makes a large export: by default 2,000 PNGs, 1 GiB in all, packed
 * by the emulator into `.tar.gz` archives. Then, `--reps` times each and alternating, on the same
 * emulator and the same export:
 *  (a) baseline: `curl` GETs of the listed signed URLs (`--concurrency` at once), and, timed apart,
 *      `tar xzf` of what curl fetched (so "download + extract" has a baseline too);
 *  (b) rfbatch: the export service (its own process) downloading, safely extracting and joining the
 *      same job's outputs for a fresh run (collect → download → finalize). rfbatch always extracts:
 *      with `output.extract: false` it keeps the archives packed in the output folder but still
 *      extracts them privately to join the results, so there is no download-only rfbatch side.
 * Goal: rfbatch (b) ≥ 0.8 × the raw curl GETs' throughput. `--quick` = 200 images, 64 MiB, 3 reps.
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
import { cpuMs, curlGet, run } from './lib/proc.js';
import { emit, fmt, goalText, log as logger, row, type BenchResult } from './lib/report.js';
import { BENCH_API_KEY, startBenchStack } from './lib/stack.js';
import { goal, median, round, speedRatio, summarize } from './lib/stats.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    images: { type: 'string' },
    'size-mb': { type: 'string' },
    reps: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '4' },
    'images-per-shard': { type: 'string', default: '100' },
  },
});
const quick = args.quick;
const images = Number(args.images ?? (quick ? 200 : 2_000));
const sizeMb = Number(args['size-mb'] ?? (quick ? 64 : 1_024));
const reps = Math.max(1, Number(args.reps));
const concurrency = Number(args.concurrency);
const perShard = Number(args['images-per-shard']);
const log = logger('export');

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

async function main(): Promise<void> {
  const data = await imageSet(
    {
      name: `export-${images}x${sizeMb}mb`,
      images,
      bytesPerImage: Math.floor((sizeMb * 1024 * 1024) / images),
    },
    log,
  );
  const stack = await startBenchStack();
  const client = createRoboflowClient({ apiUrl: stack.emulator.url, apiKey: BENCH_API_KEY });
  const prefix = 'bexp';
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
      `setting up: a run over ${images} images (${(data.bytes / 1e6).toFixed(0)} MB) with persistImagesOutputs`,
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
      `setup run done in ${setupSeconds.toFixed(1)} s: export extracts to ${extracted.files} files, ${(extracted.bytes / 1e6).toFixed(0)} MB`,
    );

    // The baseline's URLs: the export stage's output batch, listed like the official CLI does.
    const stages = await client.listStages(spec.jobId);
    const exportBatches = stages.find((s) => s.processingStageName === 'export')?.outputBatches ?? [];
    const files: { name: string; url: string }[] = [];
    for (const batchId of exportBatches) {
      for (const part of await client.listParts(batchId)) {
        for await (const f of client.listFiles(batchId, { partName: part.partName }))
          files.push({ name: `${part.partName}-${f.fileName}`, url: f.downloadURL });
      }
    }
    if (files.length === 0) throw new Error('the export stage listed no files');

    const baseline: number[] = [];
    const baselineExtract: number[] = [];
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

      // (b) rfbatch's export of the same job for a fresh run (same manifest, so results join).
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
        `rep ${rep + 1}/${reps}: curl ${baseline.at(-1)!.toFixed(2)} s (+ tar ${baselineExtract.at(-1)!.toFixed(2)} s), rfbatch ${rfbatch.at(-1)!.toFixed(2)} s (export process CPU ${(exportCpu.at(-1)! / 1000).toFixed(1)} s)`,
      );
    }

    const exportPeakRss = round(exporter.peakRssMb(), 1);
    const mb = downloadedBytes / 1e6;
    const withExtract = baseline.map((b, i) => b + baselineExtract[i]!);
    const ratio = speedRatio(baseline, rfbatch);
    const ratioExtract = speedRatio(withExtract, rfbatch);
    const goals = [goal('rfbatch / raw curl GET throughput', ratio, '>=', 0.8)];
    const result: BenchResult = {
      benchmark: 'export',
      quick,
      machine: describeMachine(),
      setup: {
        reps,
        concurrency,
        imagesPerShard: perShard,
        baselineTool: 'curl (GET) + tar xzf',
        rfbatchExport: 'export service process, default options',
      },
      dataset: {
        images,
        sourceBytes: data.bytes,
        archives: files.length,
        archiveBytes: downloadedBytes,
        extractedFiles: extracted.files,
        extractedBytes: extracted.bytes,
      },
      setupRunSeconds: round(setupSeconds, 1),
      baseline: {
        getSeconds: summarize(baseline),
        extractSeconds: summarize(baselineExtract),
        getMBps: round(mb / median(baseline)),
      },
      rfbatch: {
        seconds: summarize(rfbatch),
        MBps: round(mb / median(rfbatch)),
        stageSeconds: Object.fromEntries(Object.entries(stageSeconds).map(([k, v]) => [k, summarize(v)])),
        exportPeakRssMb: exportPeakRss,
        /** CPU time of the export process per repetition (user + system). */
        exportCpuSeconds: summarize(exportCpu.map((c) => c / 1000)),
      },
      ratio,
      ratioWithExtract: ratioExtract,
      goals,
      rows: [
        row('export', `download + extract ${files.length} archives, ${mb.toFixed(0)} MB`, {
          rfbatch: fmt.mbps(mb / median(rfbatch)),
          baseline: `${fmt.mbps(mb / median(baseline))} curl`,
          ratio: fmt.n(ratio),
          goal: goalText(goals[0]),
        }),
        row('export', `… vs curl + tar xzf (${extracted.files} files)`, {
          rfbatch: fmt.s(median(rfbatch)),
          baseline: fmt.s(median(withExtract)),
          ratio: fmt.n(ratioExtract),
        }),
        row('export', '… export process CPU time', { rfbatch: fmt.s(median(exportCpu) / 1000) }),
      ],
    };
    emit(result);
  } finally {
    await client.close();
    await stack.close();
  }
}

await main();
