/**
 * The report of a 100,000-result run (a synthetic results.jsonl of emulator-shaped records, ~50 MB)
 * is written with flat memory: in a child process whose V8 heap is capped far below the size of the
 * results (so holding them would crash it), only the 60 sampled images are decoded, and the peak RSS
 * is printed for the record (bench numbers are not asserted here).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pngBytes } from '@rfbatch/testkit/images';
import { writeTree } from '@rfbatch/testkit/source-tree';
import { repoRoot } from '../cli/cli-harness.js';

const RESULTS = 100_000;
const HEAP_CAP_MB = 64;
const CLASSES = ['person', 'car', 'dog', 'cat', 'bicycle'];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rfb-report-mem-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes `n` emulator-shaped result lines (0–5 boxes each), a few failed ones, and summary.json. */
async function syntheticRun(out: string, n: number): Promise<{ bytes: number; failed: number }> {
  const stream = createWriteStream(join(out, 'results.jsonl'));
  let failed = 0;
  for (let i = 0; i < n; i++) {
    const source = `set-${i % 97}/img-${i}.png`;
    const fail = i % 1000 === 7;
    if (fail) failed++;
    const predictions = Array.from({ length: i % 6 }, (_, k) => ({
      class: CLASSES[(i + k) % CLASSES.length],
      class_id: (i + k) % CLASSES.length,
      confidence: 0.5 + ((i * 7 + k) % 50) / 100,
      x: 100 + k * 40,
      y: 120 + k * 30,
      width: 80,
      height: 60,
    }));
    const line = fail
      ? {
          source,
          remoteName: source.replace('/', '_'),
          kind: 'image',
          status: 'failed',
          reason: 'could not decode image',
        }
      : {
          source,
          remoteName: source.replace('/', '_'),
          kind: 'image',
          status: 'ok',
          result: {
            file_name: source.replace('/', '_'),
            format: 'png',
            width: 547,
            height: 547,
            size_bytes: 900_000,
            sha256: createHash('sha256').update(source).digest('hex'),
            predictions,
            error: null,
            workflow_id: 'wf-synthetic',
          },
        };
    if (!stream.write(`${JSON.stringify(line)}\n`)) await once(stream, 'drain');
  }
  stream.end();
  await once(stream, 'finish');
  const summary = {
    runId: 'r-synthetic-100k',
    state: 'completed',
    attempt: 0,
    workflowId: 'wf-synthetic',
    counts: { sourceFiles: n, skipped: 0, results: n, missing: 0 },
    statusCounts: { ok: n - failed, failed, 'not-processed': 0, skipped: 0 },
    timings: {},
    warnings: [],
    expiry: {},
  };
  await writeFile(join(out, 'summary.json'), JSON.stringify(summary));
  return { bytes: (await stat(join(out, 'results.jsonl'))).size, failed };
}

/** The sources the report samples (the 60 of lowest SHA-256 rank), as real ~900 KB PNGs. */
async function sampledImages(root: string, n: number): Promise<void> {
  const ranked = Array.from({ length: n }, (_, i) => `set-${i % 97}/img-${i}.png`)
    .filter((_, i) => i % 1000 !== 7)
    .map((s) => ({ s, rank: createHash('sha256').update(s).digest('hex').slice(0, 16) }))
    .sort((a, b) => (a.rank < b.rank ? -1 : 1))
    .slice(0, 60);
  await writeTree(root, Object.fromEntries(ranked.map(({ s }, i) => [s, pngBytes(`mem-${i}`, 900_000)])));
}

const CHILD = `
import { writeReport } from '@rfbatch/report';
const [outDir, sourceDir] = process.argv.slice(1);
const started = Date.now();
const spec = { runId: 'r-synthetic-100k', batchId: 'b', jobId: 'j', source: { kind: 'directory', path: sourceDir, media: 'images', recursive: true },
  workflow: { workflowId: 'wf-synthetic', aggregationFormat: 'jsonl' }, compute: { machineType: 'cpu' }, output: { dir: outDir, extract: true },
  upload: { singleUploadMaxImages: 32, shardMaxImages: 500, shardMaxBytes: 536870912, filesPerJob: 200 } };
const written = await writeReport({ outDir, spec });
const ms = Date.now() - started;
process.stdout.write(JSON.stringify({ ...written, ms, maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024), heapMB: Math.round(process.memoryUsage().heapUsed / 1048576) }));
`;

interface ChildResult {
  lines: number;
  sampled: number;
  thumbnails: number;
  bytes: number;
  ms: number;
  maxRssMB: number;
  heapMB: number;
}

/** A synthetic run of `n` results, and its report written in a heap-capped child process. */
async function report(out: string, images: string, n: number) {
  await mkdir(out, { recursive: true });
  const { bytes: resultsBytes, failed } = await syntheticRun(out, n);
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      `--max-old-space-size=${HEAP_CAP_MB}`,
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      CHILD,
      out,
      images,
    ],
    { cwd: repoRoot, timeout: 50_000, maxBuffer: 1024 * 1024 },
  );
  return { ...(JSON.parse(stdout) as ChildResult), resultsBytes, failed };
}

describe('report memory', () => {
  it(`writes the report of ${RESULTS.toLocaleString('en-US')} results within a ${HEAP_CAP_MB} MB heap`, async () => {
    const out = join(dir, 'out');
    const images = join(dir, 'images');
    await sampledImages(images, RESULTS);

    const small = await report(join(dir, 'small'), images, RESULTS / 10);
    const result = await report(out, images, RESULTS);
    for (const [n, r] of [
      [RESULTS / 10, small],
      [RESULTS, result],
    ] as const)
      console.info(
        `report of ${n} results (${Math.round(r.resultsBytes / 1048576)} MB results.jsonl): ${r.ms} ms, peak RSS ${r.maxRssMB} MB, heap ${r.heapMB} MB, report ${Math.round(r.bytes / 1024)} KB`,
      );
    expect(result.lines).toBe(RESULTS);
    expect(result.sampled).toBe(60);
    expect(result.thumbnails).toBe(60);
    // Capped: the gallery and the problem list do not grow with the run.
    expect(result.bytes).toBeLessThan(2_500_000);
    expect(result.failed).toBe(100);
    expect(result.resultsBytes).toBeGreaterThan(HEAP_CAP_MB * 1024 * 1024 * 0.75);
  }, 60_000);
});
