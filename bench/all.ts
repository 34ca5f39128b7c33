/**
 * `npm run bench`: runs bench:ingest, bench:export, bench:e2e, bench:scale and bench:chaos one after the
 * other (each in its own process, as `npm run bench:<name>` would), then prints ONE JSON document with
 * every result and the machine on stdout, and the combined short table on stderr.
 *
 *   npm run bench                        the full set (long: tens of minutes)
 *   npm run bench -- --quick             small data sets, for a smoke run
 *   npm run bench -- --only e2e,scale    a subset;  --reps N  repetitions;  --out FILE  also write the JSON
 *   npm run bench -- --markdown FILE     also write the machine, the table and the goals as Markdown
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { describeMachine } from './lib/machine.js';
import { REPO } from './lib/proc.js';
import { fmt, goalText, renderTable, row, type TableRow } from './lib/report.js';
import { goal, type Goal } from './lib/stats.js';

const NAMES = ['ingest', 'export', 'e2e', 'scale', 'chaos'] as const;
type Name = (typeof NAMES)[number];

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    reps: { type: 'string', default: '3' },
    out: { type: 'string' },
    markdown: { type: 'string' },
  },
});
const only = (args.only?.split(',').map((s) => s.trim()) ?? [...NAMES]) as Name[];
for (const name of only)
  if (!NAMES.includes(name))
    throw new Error(`--only: unknown benchmark "${name}" (known: ${NAMES.join(', ')})`);

/** Flags of each benchmark for a quick run (the ingest benchmark has its own flag names). */
function flags(name: Name): string[] {
  const common = ['--reps', args.reps];
  if (!args.quick) return common;
  return name === 'ingest' ? [...common, '--size-mb', '100', '--images', '1000'] : [...common, '--quick'];
}

function runBench(name: Name): Promise<{ code: number; json: unknown; seconds: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(REPO, 'bench', `${name}.bench.ts`), ...flags(name)],
      { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      let json: unknown = null;
      try {
        json = JSON.parse(out);
      } catch {
        json = { error: `bench:${name} printed no JSON document`, stdout: out.slice(-2_000) };
      }
      resolve({ code: code ?? 1, json, seconds: (performance.now() - started) / 1000 });
    });
  });
}

/** Reads a number at a dotted path of an unknown JSON value (NaN when absent). */
function num(value: unknown, path: string): number {
  let v: unknown = value;
  for (const key of path.split('.'))
    v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
  return typeof v === 'number' ? v : Number.NaN;
}

/**
 * The ingest benchmark (owned by the ingest service) prints its own shape: turn it into rows and
 * goals. Read defensively: `rfbatch` is one side, or one side per runner (the first is the primary).
 */
function ingestRows(j: unknown): { rows: TableRow[]; goals: Goal[] } {
  const sides = (j as { rfbatch?: Record<string, unknown> }).rfbatch ?? {};
  const ours = 'MBps' in sides ? sides : (Object.values(sides)[0] ?? {});
  const ratio = num(j, 'ratio');
  const rss = num(j, 'ingestPeakRssMb');
  const goals = [
    goal('rfbatch / curl -T PUT throughput', ratio, '>=', 0.8),
    goal('ingest peak RSS', rss, '<=', 150, ' MB'),
  ];
  const show = (x: number, f: (x: number) => string) => (Number.isFinite(x) ? f(x) : '?');
  return {
    goals,
    rows: [
      row('ingest', `upload ${num(j, 'dataset.images')} images, ${num(j, 'dataset.megabytes')} MB`, {
        rfbatch: show(num(ours, 'MBps'), fmt.mbps),
        baseline: `${show(num(j, 'baseline.MBps'), fmt.mbps)} curl -T`,
        ratio: show(ratio, (x) => fmt.n(x)),
        goal: goalText(goals[0]),
      }),
      row('ingest', 'ingest peak RSS', { rfbatch: show(rss, fmt.mb), goal: goalText(goals[1]) }),
      row('ingest', 'Redis memory used', { rfbatch: show(num(j, 'redisMemoryUsedMb'), fmt.mb) }),
    ],
  };
}

const results: Record<string, unknown> = {};
const rows: TableRow[] = [];
const goals: (Goal & { benchmark: string })[] = [];
const failures: string[] = [];
for (const name of only) {
  process.stderr.write(`\n=== bench:${name} ${flags(name).join(' ')}\n`);
  const { code, json, seconds } = await runBench(name);
  results[name] = json;
  process.stderr.write(`=== bench:${name} finished in ${seconds.toFixed(0)} s (exit ${code})\n`);
  if (code !== 0 || (json as { error?: unknown }).error) {
    failures.push(name);
    rows.push(row(name, 'FAILED', { rfbatch: `exit ${code}` }));
    continue;
  }
  const r = name === 'ingest' ? ingestRows(json) : (json as { rows: TableRow[]; goals: Goal[] });
  rows.push(...r.rows);
  goals.push(...r.goals.map((g) => ({ benchmark: name, ...g })));
}

const doc = {
  benchmarks: only,
  quick: args.quick,
  reps: Number(args.reps),
  machine: describeMachine(),
  finishedAt: new Date().toISOString(),
  goals,
  missedGoals: goals.filter((g) => !g.met),
  failed: failures,
  results,
  table: renderTable(rows),
};
const text = `${JSON.stringify(doc, null, 2)}\n`;
process.stdout.write(text);
if (args.out) await writeFile(args.out, text);
if (args.markdown) {
  const m = doc.machine;
  const md = [
    `Run of ${doc.finishedAt} (${doc.quick ? 'quick' : 'full'}, ${doc.reps} repetitions, medians):`,
    '',
    `- machine: ${m.nproc} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB memory, ${m.platform}, kernel ${m.kernel}`,
    `- node ${m.node}, Redis ${m.redis}, ${m.curl}`,
    '',
    doc.table,
    '',
    'Goals:',
    '',
    ...goals.map(
      (g) => `- ${g.benchmark}: ${g.name} ${g.target} — ${g.value} ${g.met ? 'met' : '**missed**'}`,
    ),
    ...failures.map((f) => `- ${f}: **the benchmark failed**`),
    '',
  ].join('\n');
  await writeFile(args.markdown, md);
}
process.stderr.write(`\n${doc.table}\n`);
process.exitCode = failures.length ? 1 : 0;
