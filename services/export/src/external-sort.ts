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

/** Default budget of one sort's buffer before a run is written (values plus a per-item estimate). */
export const DEFAULT_SORT_BUFFER_BYTES = 8 * 1024 * 1024;

/** What an item costs beyond its value's characters: the item object, its key and the array slot. */
const ITEM_OVERHEAD_BYTES = 96;

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

/** Read buffer of one run while merging (each open run holds about this plus a few lines). */
const RUN_READ_BYTES = 64 * 1024;

/** Most runs merged at once: beyond it, runs are first merged into one, so open runs stay few. */
const MAX_FAN_IN = 16;

async function* readRun<K extends string | number>(file: string): AsyncGenerator<SortItem<K>> {
  const lines = createInterface({
    input: createReadStream(file, { highWaterMark: RUN_READ_BYTES }),
    crlfDelay: Infinity,
  });
  for await (const line of lines) if (line !== '') yield parseLine<K>(line);
}

type Source<K extends string | number> = AsyncIterator<SortItem<K>> | Iterator<SortItem<K>>;

/** A stable k-way merge: on equal keys the item of the lower source comes first. */
async function* merge<K extends string | number>(sources: Source<K>[]): AsyncGenerator<SortItem<K>> {
  const heads: (SortItem<K> | undefined)[] = [];
  try {
    for (const source of sources) {
      const first = await source.next();
      heads.push(first.done ? undefined : first.value);
    }
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
      const next = await (sources[min] as Source<K>).next();
      heads[min] = next.done ? undefined : next.value;
    }
  } finally {
    for (const source of sources) await source.return?.();
  }
}

export class ExternalSort<K extends string | number> {
  private buffer: SortItem<K>[] = [];
  private bufferBytes = 0;
  private runs: string[] = [];
  private written = 0;

  /** `dir` is this sort's own scratch folder (created when the first run is written, removed by `dispose`). */
  constructor(
    private readonly dir: string,
    private readonly budgetBytes = DEFAULT_SORT_BUFFER_BYTES,
  ) {}

  /** Adds one item; `value` must hold no newline (a JSON.stringify result never does). */
  async add(key: K, value: string): Promise<void> {
    this.buffer.push({ key, value });
    this.bufferBytes += value.length + ITEM_OVERHEAD_BYTES;
    if (this.bufferBytes >= this.budgetBytes) await this.spill();
  }

  /** How many run files were written (0 while everything fits the budget). */
  get spilled(): number {
    return this.written;
  }

  private async spill(): Promise<void> {
    const items = this.buffer.sort(byKey);
    this.buffer = [];
    this.bufferBytes = 0;
    this.runs.push(await this.writeRun(items));
    if (this.runs.length < MAX_FAN_IN) return;
    // Runs are merged in the order written, so ties keep the order they were added in.
    const merged = await this.writeRun(merge(this.runs.map((file) => readRun<K>(file))));
    await Promise.all(this.runs.map((file) => rm(file, { force: true })));
    this.runs = [merged];
  }

  private async writeRun(items: Iterable<SortItem<K>> | AsyncIterable<SortItem<K>>): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    const file = join(this.dir, `run-${this.written++}`);
    const out = createWriteStream(file, { flags: 'wx', highWaterMark: 1 << 20 });
    const done = new Promise<void>((resolve, reject) => {
      out.once('finish', resolve);
      out.once('error', reject);
    });
    // Lines joined into chunks of about 1 MiB: one write (and one await) per chunk, not per item.
    let chunk = '';
    for await (const item of items) {
      chunk += `${JSON.stringify(item.key)}\t${item.value}\n`;
      if (chunk.length < 1 << 20) continue;
      await writeLine(out, chunk);
      chunk = '';
    }
    if (chunk) await writeLine(out, chunk);
    out.end();
    await done;
    return file;
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
    yield* merge<K>([...this.runs.map((file) => readRun<K>(file)), last[Symbol.iterator]()]);
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
