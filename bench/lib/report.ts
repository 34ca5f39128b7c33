/**
 * Benchmark output: one JSON document on stdout (for machines) and a short table on stderr (for
 * people), so `npm run bench:x > result.json` keeps a clean JSON file.
 */
import type { Machine } from './machine.js';
import type { Goal } from './stats.js';

/** One line of the short table. */
export interface TableRow {
  benchmark: string;
  metric: string;
  rfbatch: string;
  baseline: string;
  ratio: string;
  goal: string;
}

export interface BenchResult {
  benchmark: string;
  /** True for a reduced run (`--quick`): numbers are indicative only. */
  quick: boolean;
  machine: Machine;
  setup: Record<string, unknown>;
  goals: Goal[];
  rows: TableRow[];
  [key: string]: unknown;
}

export const log = (bench: string) => (message: string) =>
  process.stderr.write(`[bench:${bench}] ${message}\n`);

export function row(
  benchmark: string,
  metric: string,
  values: Partial<Omit<TableRow, 'benchmark' | 'metric'>>,
): TableRow {
  return { benchmark, metric, rfbatch: '', baseline: '', ratio: '', goal: '', ...values };
}

/** Renders rows as a fixed-width text table (also valid Markdown). */
export function renderTable(rows: readonly TableRow[]): string {
  const head: TableRow = {
    benchmark: 'benchmark',
    metric: 'metric',
    rfbatch: 'rfbatch',
    baseline: 'baseline',
    ratio: 'ratio',
    goal: 'goal',
  };
  const keys = Object.keys(head) as (keyof TableRow)[];
  const widths = keys.map((k) => Math.max(...[head, ...rows].map((r) => r[k].length)));
  const line = (r: TableRow) => `| ${keys.map((k, i) => r[k].padEnd(widths[i]!)).join(' | ')} |`;
  const rule = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`;
  return [line(head), rule, ...rows.map(line)].join('\n');
}

/** Goal text with its verdict, e.g. `>= 0.8 ✔` or `>= 3 ✘`. */
export function goalText(g: Goal | undefined): string {
  return g ? `${g.target} ${g.met ? 'met' : 'MISSED'}` : '';
}

/** Prints the JSON document on stdout and the table on stderr. */
export function emit(result: BenchResult): void {
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  process.stderr.write(`\n${renderTable(result.rows)}\n`);
}

export const fmt = {
  s: (x: number) => `${x.toFixed(2)} s`,
  mb: (x: number) => `${x.toFixed(1)} MB`,
  mbps: (x: number) => `${x.toFixed(1)} MB/s`,
  n: (x: number, d = 2) => x.toFixed(d),
  x: (x: number) => `${x.toFixed(2)}×`,
};
