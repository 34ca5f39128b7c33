/**
 * Finalize join benchmark (`npm run bench:join`, prints JSON + a table): the memory and time of
 * writing results.jsonl for runs of 10^3, 10^5 and 10^6 files (`--sizes`; `--quick`: 10^3 and 10^5).
 * Each run is synthetic but shaped like a real one: a manifest in source order whose remote names
 * sort in another order, and result records in JSONL files of 500, in an order unrelated to either.
 * Each join runs in its own process (`bench/scripts/join-child.ts`), `--reps` times, with the sorts'
 * default buffer (bounded: sorted runs spill to disk) and with an unbounded buffer (the baseline: the
 * join as it was, every record held in memory). Peak RSS is the child's VmHWM.
 * Each is run with V8's old space capped (`--heap-mb`, 160: what the join really needs; a join that
 * does not fit dies) and uncapped (peak RSS then also holds what the lazy collector has not freed).
 * Goal: in the capped heap, the join of the largest run peaks at most 96 MB above the smallest one's.
 */
import { execFile } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { writeLine } from '@rfbatch/shared';
import { describeMachine } from './lib/machine.js';
import { REPO } from './lib/proc.js';
import { emit, fmt, log as logger, row, type TableRow } from './lib/report.js';
import { goal, median, round, summarize } from './lib/stats.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    sizes: { type: 'string' },
    reps: { type: 'string' },
    'heap-mb': { type: 'string', default: '160' },
  },
});
const quick = args.quick;
const sizes = (args.sizes ?? (quick ? '1000,100000' : '1000,100000,1000000')).split(',').map(Number);
const reps = Math.max(1, Number(args.reps ?? (quick ? 1 : 2)));
const heapMb = Number(args['heap-mb']);
const log = logger('join');
const DATA = join(REPO, 'bench', '.data', 'join');
const RUN = 'bench-join';
const PER_FILE = 500;

/** A permutation of 0..n-1 that scatters neighbours (multiplication by a number coprime to n). */
function scatter(n: number, k: number): (i: number) => number {
  let step = k;
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  while (gcd(step, n) !== 1) step++;
  return (i) => (i * step) % n;
}

async function writeLines(file: string, count: number, line: (i: number) => string): Promise<void> {
  const out = createWriteStream(file, { highWaterMark: 1 << 20 });
  const done = new Promise<void>((resolve, reject) =>
    out.once('finish', () => resolve()).once('error', reject),
  );
  for (let i = 0; i < count; i++) await writeLine(out, line(i));
  out.end();
  await done;
}

/** The work dir of a synthetic run of n files, generated once. */
async function dataSet(n: number): Promise<{ workDir: string; outDir: string }> {
  const root = join(DATA, String(n));
  const workDir = join(root, 'work');
  const outDir = join(root, 'out');
  const run = join(workDir, 'runs', RUN);
  if (existsSync(join(root, 'ready'))) return { workDir, outDir };
  log(`generating a run of ${n} files`);
  await rm(root, { recursive: true, force: true });
  await mkdir(join(outDir, 'outputs', 'results'), { recursive: true });
  await mkdir(run, { recursive: true });
  const nameOf = scatter(n, 7919);
  await writeLines(
    join(run, 'manifest.jsonl'),
    n,
    (i) =>
      `${JSON.stringify({ i, source: `site-${i % 97}/camera-${i % 13}/frame-${i}.jpg`, name: `f${nameOf(i)}.jpg`, kind: 'image', unit: Math.floor(i / 500) })}\n`,
  );
  const files = Math.ceil(n / PER_FILE);
  const recordOf = scatter(n, 104729);
  for (let f = 0; f < files; f++) {
    const count = Math.min(PER_FILE, n - f * PER_FILE);
    await writeLines(join(outDir, 'outputs', 'results', `part-${f}.jsonl`), count, (k) => {
      const i = recordOf(f * PER_FILE + k);
      const prediction = { x: i % 640, y: i % 480, width: 32, height: 48, confidence: 0.87, class: 'car' };
      return `${JSON.stringify({ file_name: `f${i}.jpg`, error: null, predictions: [prediction] })}\n`;
    });
  }
  await writeFile(
    join(run, 'downloads.jsonl'),
    `${JSON.stringify({ i: 0, batchId: 'b', partName: 'results', fileName: 'results', shardId: null, contentType: 'application/jsonl', local: 'results', archive: false })}\n`,
  );
  await writeFile(join(root, 'ready'), '');
  return { workDir, outDir };
}

interface ChildResult {
  seconds: number;
  idleMb: number;
  peakMb: number;
  counts: { sourceFiles: number; results: number };
}

/** One join in a child process; `heapMb` caps V8's old space (a join that needs more dies: null). */
async function joinOnce(n: number, budget: string, heapMb?: number): Promise<ChildResult | null> {
  const { workDir, outDir } = await dataSet(n);
  const flags = heapMb === undefined ? [] : [`--max-old-space-size=${heapMb}`];
  const script = join(REPO, 'bench', 'scripts', 'join-child.ts');
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)(
      process.execPath,
      [...flags, '--import', 'tsx', script, workDir, RUN, outDir, budget],
      { cwd: REPO, maxBuffer: 1 << 20 },
    ));
  } catch (error) {
    if (heapMb !== undefined && /heap out of memory/.test(String((error as { stderr?: string }).stderr)))
      return null;
    throw error;
  }
  const result = JSON.parse(stdout.trim().split('\n').pop() ?? '') as ChildResult;
  if (result.counts.sourceFiles !== n || result.counts.results !== n)
    throw new Error(`the join of ${n} files gave ${JSON.stringify(result.counts)}: the data set is wrong`);
  return result;
}

function stats(results: (ChildResult | null)[]) {
  const done = results.filter((r): r is ChildResult => r !== null);
  if (done.length < results.length) return null;
  return {
    seconds: summarize(done.map((x) => x.seconds)),
    peakMb: summarize(
      done.map((x) => x.peakMb),
      1,
    ),
    idleMb: round(median(done.map((x) => x.idleMb)), 1),
  };
}

const shown = (s: ReturnType<typeof stats>, what: (s: NonNullable<ReturnType<typeof stats>>) => string) =>
  s ? what(s) : `out of memory (${heapMb} MB heap)`;

const rows: TableRow[] = [];
const measured: Record<string, unknown>[] = [];
const cappedPeaks = new Map<number, number>();
for (const n of sizes) {
  const runs = { capped: [] as (ChildResult | null)[], uncapped: [] as (ChildResult | null)[] };
  const baseline = { capped: [] as (ChildResult | null)[], uncapped: [] as (ChildResult | null)[] };
  for (let r = 0; r < reps; r++) {
    runs.capped.push(await joinOnce(n, 'default', heapMb));
    baseline.capped.push(await joinOnce(n, 'memory', heapMb));
    runs.uncapped.push(await joinOnce(n, 'default'));
    baseline.uncapped.push(await joinOnce(n, 'memory'));
  }
  const b = { capped: stats(runs.capped), uncapped: stats(runs.uncapped) };
  const m = { capped: stats(baseline.capped), uncapped: stats(baseline.uncapped) };
  cappedPeaks.set(n, b.capped?.peakMb.median ?? Number.NaN);
  measured.push({ files: n, bounded: b, inMemory: m });
  rows.push(
    row('join', `${n} files, ${heapMb} MB heap: peak RSS`, {
      rfbatch: shown(b.capped, (s) => `${fmt.mb(s.peakMb.median)} (idle ${fmt.mb(s.idleMb)})`),
      baseline: shown(m.capped, (s) => `${fmt.mb(s.peakMb.median)} in memory`),
    }),
    row('join', `${n} files, ${heapMb} MB heap: time`, {
      rfbatch: shown(b.capped, (s) => fmt.s(s.seconds.median)),
      baseline: shown(m.capped, (s) => `${fmt.s(s.seconds.median)} in memory`),
    }),
    row('join', `${n} files, no heap cap: peak RSS`, {
      rfbatch: shown(b.uncapped, (s) => fmt.mb(s.peakMb.median)),
      baseline: shown(m.uncapped, (s) => `${fmt.mb(s.peakMb.median)} in memory`),
    }),
    row('join', `${n} files, no heap cap: time`, {
      rfbatch: shown(b.uncapped, (s) => fmt.s(s.seconds.median)),
      baseline: shown(m.uncapped, (s) => `${fmt.s(s.seconds.median)} in memory`),
      ratio: b.uncapped && m.uncapped ? fmt.n(m.uncapped.seconds.median / b.uncapped.seconds.median) : '',
    }),
  );
  log(`${n} files done: ${JSON.stringify({ bounded: b, inMemory: m })}`);
}
const smallest = cappedPeaks.get(Math.min(...sizes)) ?? Number.NaN;
const largest = cappedPeaks.get(Math.max(...sizes)) ?? Number.NaN;
const goals = [
  goal(
    `join in a ${heapMb} MB heap: peak RSS growth from the smallest run to the largest`,
    largest - smallest,
    '<=',
    96,
    ' MB',
  ),
];
emit({
  benchmark: 'join',
  quick,
  machine: describeMachine(),
  setup: {
    sizes,
    reps,
    heapMb,
    recordsPerFile: PER_FILE,
    sortBuffer: 'the default (DEFAULT_SORT_BUFFER_BYTES)',
  },
  goals,
  rows,
  measured,
});
