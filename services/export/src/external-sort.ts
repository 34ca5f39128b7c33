/**
 * A sort whose memory does not grow with its input: items are buffered up to a byte budget, each full
 * buffer is sorted and written as a run file, and reading merges the runs (k-way, stable: equal keys
 * come out in the order they were added). Below the budget nothing touches the disk.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { writeLine } from '@rfbatch/shared';

/** A sort key (a remote name or a manifest index) and its value, serialised on one line. */
export interface SortItem<K extends string | number> {
  key: K;
  value: string;
}

/** Default budget of buffered values before a run is written (the process holds about twice this). */
export const DEFAULT_SORT_BUFFER_BYTES = 32 * 1024 * 1024;

function compareKeys(a: string | number, b: string | number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function byKey<K extends string | number>(a: SortItem<K>, b: SortItem<K>): number {
  return compareKeys(a.key, b.key);
}

/**
 * A run line is `<key as JSON>\t<value>`: JSON escapes every tab and newline inside a string, so the
 * first tab ends the key and a value written by JSON.stringify never spans two lines.
 */
function parseLine<K extends string | number>(line: string): SortItem<K> {
  const tab = line.indexOf('\t');
  return { key: JSON.parse(line.slice(0, tab)) as K, value: line.slice(tab + 1) };
}

async function* readRun<K extends string | number>(file: string): AsyncGenerator<SortItem<K>> {
  const lines = createInterface({
    input: createReadStream(file, { highWaterMark: 1 << 20 }),
    crlfDelay: Infinity,
  });
  for await (const line of lines) if (line !== '') yield parseLine<K>(line);
}

export class ExternalSort<K extends string | number> {
  private buffer: SortItem<K>[] = [];
  private bufferBytes = 0;
  private readonly runs: string[] = [];

  /** `dir` is this sort's own scratch folder (created when the first run is written, removed by `dispose`). */
  constructor(
    private readonly dir: string,
    private readonly budgetBytes = DEFAULT_SORT_BUFFER_BYTES,
  ) {}

  /** Adds one item; `value` must hold no newline (a JSON.stringify result never does). */
  async add(key: K, value: string): Promise<void> {
    this.buffer.push({ key, value });
    this.bufferBytes += value.length + 16;
    if (this.bufferBytes >= this.budgetBytes) await this.spill();
  }

  /** How many run files were written (0 while everything fits the budget). */
  get spilled(): number {
    return this.runs.length;
  }

  private async spill(): Promise<void> {
    const items = this.buffer.sort(byKey);
    this.buffer = [];
    this.bufferBytes = 0;
    await mkdir(this.dir, { recursive: true });
    const file = join(this.dir, `run-${this.runs.length}`);
    const out = createWriteStream(file, { flags: 'wx', highWaterMark: 1 << 20 });
    const done = new Promise<void>((resolve, reject) => {
      out.once('finish', resolve);
      out.once('error', reject);
    });
    for (const item of items) await writeLine(out, `${JSON.stringify(item.key)}\t${item.value}\n`);
    out.end();
    await done;
    this.runs.push(file);
  }

  /** Every item added, in key order (ties in the order added). Call once, after the last `add`. */
  async *sorted(): AsyncGenerator<SortItem<K>> {
    const last = this.buffer.sort(byKey);
    this.buffer = [];
    this.bufferBytes = 0;
    if (this.runs.length === 0) {
      yield* last;
      return;
    }
    // The runs in the order written, then the last buffer: on equal keys the lowest source wins.
    const sources: (AsyncIterator<SortItem<K>> | Iterator<SortItem<K>>)[] = [
      ...this.runs.map((file) => readRun<K>(file)),
      last[Symbol.iterator](),
    ];
    const heads: (SortItem<K> | undefined)[] = [];
    try {
      for (const source of sources) heads.push((await source.next()).value as SortItem<K> | undefined);
      for (;;) {
        let min = -1;
        for (let i = 0; i < heads.length; i++) {
          const head = heads[i];
          if (head === undefined) continue;
          const current = min < 0 ? undefined : heads[min];
          if (current === undefined || compareKeys(head.key, current.key) < 0) min = i;
        }
        if (min < 0) return;
        yield heads[min] as SortItem<K>;
        const next = await (sources[min] as AsyncIterator<SortItem<K>>).next();
        heads[min] = next.done ? undefined : next.value;
      }
    } finally {
      for (const source of sources) await source.return?.();
    }
  }

  /** Removes the run files. */
  async dispose(): Promise<void> {
    this.buffer = [];
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Consecutive items of a sorted stream grouped by key. */
export async function* groupByKey<K extends string | number>(
  items: AsyncIterable<SortItem<K>>,
): AsyncGenerator<{ key: K; values: string[] }> {
  let group: { key: K; values: string[] } | undefined;
  for await (const item of items) {
    if (group && group.key === item.key) {
      group.values.push(item.value);
      continue;
    }
    if (group) yield group;
    group = { key: item.key, values: [item.value] };
  }
  if (group) yield group;
}
