/**
 * results.jsonl: the job's result records joined to the run's source files, in bounded memory. The
 * records are sorted by the remote name they give, the manifest by its remote names, and the two are
 * merged; the joined lines are sorted back into manifest order. Each sort holds at most its buffer in
 * memory and spills sorted runs to the run's work dir beyond it, so 10^6 files join in the memory of
 * 10^3 (refused entries, one small file per file the API refused, are the one map kept whole).
 */
import { access, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createAtomicWriteStream,
  type ManifestEntry as ManifestEntryType,
  ManifestEntry,
  readJsonLines,
  readRefused,
  type RefusedEntry,
  SkippedEntry,
  writeLine,
} from '@rfbatch/shared';
import { DownloadEntry, type ExportPaths } from './downloads.js';
import { DEFAULT_SORT_BUFFER_BYTES, ExternalSort, groupByKey } from './external-sort.js';
import {
  joinEntry,
  readRecords,
  recordFiles,
  recordName,
  skippedLine,
  type ResultLine,
  type ResultRecord,
  type ResultStatus,
} from './results-join.js';

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** What the join learnt, for the summary. */
export interface JoinCounts {
  sourceFiles: number;
  skipped: number;
  results: number;
  missing: number;
  byStatus: Record<ResultStatus, number>;
  /** Records that name no file of the manifest (reported as a warning). */
  unmatchedRecords: number;
  unmatchedExample?: string;
  /** JSONL lines that were not objects. */
  badLines: number;
}

export interface WriteResultsOptions {
  /** Memory budget of each sort's buffer. @defaultValue 8 MiB */
  sortBufferBytes?: number;
}

/** Every result record of the run's downloaded outputs into a sort keyed by the name it gives. */
async function sortRecords(
  paths: ExportPaths,
  sort: ExternalSort<string>,
  counts: JoinCounts,
): Promise<void> {
  if (!(await exists(paths.downloads))) return;
  const seen = new Set<string>();
  for await (const entry of readJsonLines(paths.downloads, DownloadEntry)) {
    const content = paths.contentPath(entry);
    if (seen.has(content)) continue;
    seen.add(content);
    for (const file of await recordFiles(content)) {
      const read = await readRecords(file);
      counts.badLines += read.badLines;
      for (const record of read.records) {
        const name = recordName(record);
        if (name === undefined) counts.unmatchedRecords++;
        else await sort.add(name, JSON.stringify(record));
      }
    }
  }
}

function parseRecords(values: string[]): ResultRecord[] {
  return values.map((v) => JSON.parse(v) as ResultRecord);
}

/** The manifest's entries joined with the record groups; both streams are in name order. */
async function* joinSorted(
  manifest: AsyncIterable<{ key: string; values: string[] }>,
  records: AsyncIterator<{ key: string; values: string[] }>,
  counts: JoinCounts,
  refused: ReadonlyMap<number, RefusedEntry>,
): AsyncGenerator<{ i: number; line: ResultLine }> {
  const unmatched = (name: string) => {
    counts.unmatchedRecords++;
    counts.unmatchedExample ??= name;
  };
  let group = await records.next();
  for await (const named of manifest) {
    while (!group.done && group.value.key < named.key) {
      unmatched(group.value.key);
      group = await records.next();
    }
    let found: ResultRecord[] | undefined;
    if (!group.done && group.value.key === named.key) {
      found = parseRecords(group.value.values);
      group = await records.next();
    }
    for (const value of named.values) {
      const entry = JSON.parse(value) as ManifestEntryType;
      yield { i: entry.i, line: joinEntry(entry, found, refused.get(entry.i)) };
    }
  }
  for (; !group.done; group = await records.next()) unmatched(group.value.key);
}

/**
 * Lines of a run without a manifest (a staged batch or an adopted job: no local files were listed),
 * one per remote file name the outputs name, in name order, keyed by that name (`source` and
 * `remoteName` are both it). A name with several records is a video (one record per sampled frame).
 */
async function* remoteKeyedLines(
  records: AsyncIterable<{ key: string; values: string[] }>,
): AsyncGenerator<ResultLine> {
  let i = 0;
  for await (const { key: name, values } of records) {
    const entry: ManifestEntryType = {
      i: i++,
      source: name,
      name,
      kind: values.length > 1 ? 'video' : 'image',
      unit: 0,
    };
    yield joinEntry(entry, parseRecords(values));
  }
}

function count(counts: JoinCounts, line: ResultLine): void {
  counts.sourceFiles++;
  counts.byStatus[line.status]++;
  if (line.status === 'not-processed') counts.missing++;
  else if (line.status === 'skipped') counts.skipped++;
  else counts.results++;
}

/**
 * Writes `results.jsonl`: one line per source file, in manifest order, then the skipped files. The
 * bytes depend only on the manifest, the skipped list and the downloaded outputs, so writing it twice
 * gives the same file. Written to an exclusive temp name and renamed (never through a planted link),
 * so a reader never sees half of it.
 */
export async function writeResults(
  paths: ExportPaths,
  options: WriteResultsOptions = {},
): Promise<JoinCounts> {
  const budget = options.sortBufferBytes ?? DEFAULT_SORT_BUFFER_BYTES;
  const counts: JoinCounts = {
    sourceFiles: 0,
    skipped: 0,
    results: 0,
    missing: 0,
    byStatus: { ok: 0, failed: 0, 'not-processed': 0, skipped: 0 },
    unmatchedRecords: 0,
    badLines: 0,
  };
  // Scratch runs of an earlier, interrupted finalize are not this one's.
  const scratch = join(paths.dir, 'join');
  await rm(scratch, { recursive: true, force: true });
  const records = new ExternalSort<string>(join(scratch, 'records'), budget);
  const names = new ExternalSort<string>(join(scratch, 'manifest'), budget);
  const ordered = new ExternalSort<number>(join(scratch, 'lines'), budget);
  await mkdir(paths.out, { recursive: true });
  const out = await createAtomicWriteStream(paths.results);
  const write = (line: ResultLine | string) =>
    writeLine(out.stream, `${typeof line === 'string' ? line : JSON.stringify(line)}\n`);
  try {
    await sortRecords(paths, records, counts);
    const groups = groupByKey(records.sorted());
    if (await exists(paths.manifest)) {
      for await (const entry of readJsonLines(paths.manifest, ManifestEntry))
        await names.add(entry.name, JSON.stringify(entry));
      const refused = await readRefused(paths);
      for await (const { i, line } of joinSorted(groupByKey(names.sorted()), groups, counts, refused)) {
        count(counts, line);
        await ordered.add(i, JSON.stringify(line));
      }
      for await (const { value } of ordered.sorted()) await write(value);
    } else {
      for await (const line of remoteKeyedLines(groups)) {
        count(counts, line);
        await write(line);
      }
    }
    if (await exists(paths.skipped)) {
      for await (const entry of readJsonLines(paths.skipped, SkippedEntry)) {
        const line = skippedLine(entry);
        count(counts, line);
        await write(line);
      }
    }
  } catch (error) {
    await out.abort();
    throw error;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  await out.commit();
  return counts;
}
