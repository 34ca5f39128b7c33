import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { ManifestEntry, RefusedEntry, SkippedEntry } from '@rfbatch/shared';
import { parseCsv } from './csv.js';

/** A result record as the job wrote it (JSONL object or CSV row). */
export type ResultRecord = Record<string, unknown>;

/** Keys that name the input file of a record, most specific first (the API writes `file_name`). */
const NAME_KEYS = ['file_name', 'fileName', 'image_name', 'imageName', 'filename', 'name'] as const;

/** The input file a record belongs to (its remote name), when it says. */
export function recordName(record: ResultRecord): string | undefined {
  for (const key of NAME_KEYS) {
    const value = record[key];
    if (typeof value === 'string' && value !== '') return value.split('/').pop();
  }
  return undefined;
}

/** The error a record reports for its input, when it reports one. */
export function recordError(record: ResultRecord): string | undefined {
  const value = record.error;
  if (value === null || value === undefined || value === '' || value === false) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

const RECORD_EXTENSIONS = new Set(['.jsonl', '.ndjson', '.csv']);

/** True for files that hold result records. */
function isRecordFile(path: string): boolean {
  return RECORD_EXTENSIONS.has(extname(path).toLowerCase());
}

/** Record files at `path` (a file, or a folder walked in sorted order for a stable result). */
export async function recordFiles(path: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(path, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') return isRecordFile(path) ? [path] : [];
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const out: string[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) out.push(...(await recordFiles(full)));
    else if (entry.isFile() && isRecordFile(full)) out.push(full);
  }
  return out;
}

/** The records of one JSONL or CSV file. A JSONL line that is not an object is reported, not fatal. */
export async function readRecords(file: string): Promise<{ records: ResultRecord[]; badLines: number }> {
  const text = await readFile(file, 'utf8');
  if (extname(file).toLowerCase() === '.csv') return { records: parseCsv(text), badLines: 0 };
  const records: ResultRecord[] = [];
  let badLines = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const value: unknown = JSON.parse(line);
      if (value && typeof value === 'object' && !Array.isArray(value)) records.push(value as ResultRecord);
      else badLines++;
    } catch {
      badLines++;
    }
  }
  return { records, badLines };
}

/** Status of one source file in results.jsonl (the request-count vocabulary of other batch APIs). */
export type ResultStatus = 'ok' | 'failed' | 'not-processed' | 'skipped';

export interface ResultLine {
  source: string;
  /** The path's exact bytes (base64) when it is not valid UTF-8 (`source` then shows U+FFFD). */
  sourceBytes?: string;
  remoteName?: string;
  kind?: 'image' | 'video';
  status: ResultStatus;
  reason?: string;
  detail?: string;
  /** The image's record. */
  result?: ResultRecord;
  /** A video's records, one per sampled frame, in frame order. */
  frames?: ResultRecord[];
}

function frameIndex(record: ResultRecord): number {
  const value = Number(record.frame_index);
  return Number.isFinite(value) ? value : 0;
}

/**
 * Joins one manifest entry with the records named after it; a file the API refused at upload (and
 * so has no record) is `failed` with the API's reason.
 */
export function joinEntry(
  entry: ManifestEntry,
  records: ResultRecord[] | undefined,
  refused?: RefusedEntry,
): ResultLine {
  const base = {
    source: entry.source,
    ...(entry.sourceBytes === undefined ? {} : { sourceBytes: entry.sourceBytes }),
    remoteName: entry.name,
    kind: entry.kind,
  };
  if (!records?.length && refused) return { ...base, status: 'failed', reason: refused.reason };
  if (!records?.length) {
    return {
      ...base,
      status: 'not-processed',
      reason: 'no result record names this file in the job outputs',
    };
  }
  if (entry.kind === 'video') {
    const frames = [...records].sort((a, b) => frameIndex(a) - frameIndex(b));
    const errors = frames.map(recordError).filter((e): e is string => e !== undefined);
    return errors.length
      ? { ...base, status: 'failed', reason: errors[0] as string, frames }
      : { ...base, status: 'ok', frames };
  }
  // A shard sent twice yields the same record twice: the first one stands for the file.
  const result = records[0] as ResultRecord;
  const error = recordError(result);
  return error ? { ...base, status: 'failed', reason: error, result } : { ...base, status: 'ok', result };
}

export function skippedLine(entry: SkippedEntry): ResultLine {
  return {
    source: entry.source,
    ...(entry.sourceBytes === undefined ? {} : { sourceBytes: entry.sourceBytes }),
    status: 'skipped',
    reason: entry.reason,
    ...(entry.detail ? { detail: entry.detail } : {}),
  };
}
