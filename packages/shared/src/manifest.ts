import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import type { ByteRange } from './queues.js';
import { writeFileAtomic } from './safe-write.js';

/**
 * The exact bytes of a source path (base64), present only when the path is not valid UTF-8: `source`
 * then shows each bad byte as U+FFFD (for people), and these bytes name the file (for fs and joins).
 */
const SourceBytes = z.base64().describe('exact bytes of a source path that is not valid UTF-8 (base64)');

/** How a relative path of raw bytes is recorded: its display form, plus its bytes when not UTF-8. */
export function displayPath(bytes: Buffer): { source: string; sourceBytes?: string } {
  const source = bytes.toString('utf8');
  return Buffer.from(source, 'utf8').equals(bytes)
    ? { source }
    : { source, sourceBytes: bytes.toString('base64') };
}

/** The file of a directory source's entry under `root`: a string, or bytes for a non-UTF-8 name. */
export function sourcePathOf(
  root: string,
  entry: { source: string; sourceBytes?: string | undefined },
): string | Buffer {
  if (entry.sourceBytes === undefined) return join(root, entry.source);
  return Buffer.concat([
    Buffer.from(`${root.replace(/\/+$/, '')}/`),
    Buffer.from(entry.sourceBytes, 'base64'),
  ]);
}

/**
 * One line of a run's manifest (`manifest.jsonl`): a source item and the unique name it has in the
 * batch. Written before anything is uploaded; upload jobs carry byte ranges of this file, and results
 * are joined back to sources through it.
 */
export const ManifestEntry = z.object({
  /** Position in the manifest, 0-based. */
  i: z.number().int().min(0),
  /** Path relative to the source root (directory sources) or the reference's own name. */
  source: z.string(),
  sourceBytes: SourceBytes.optional(),
  /** Unique name in the batch: ≤100 bytes of safe ASCII. */
  name: z.string().max(100),
  kind: z.enum(['image', 'video']),
  size: z.number().int().min(0).optional(),
  mtimeMs: z.number().optional(),
  /** Shard (tar uploads), group (single/video uploads) or chunk (references) this item belongs to. */
  unit: z.number().int().min(0),
  /** Signed URL of a references source. A secret: never copied to Redis, logs or results. */
  url: z.string().optional(),
});
export type ManifestEntry = z.infer<typeof ManifestEntry>;

/** A source file left out of the run, and why (`skipped.jsonl`). */
export const SkippedEntry = z.object({
  source: z.string(),
  sourceBytes: SourceBytes.optional(),
  reason: z.enum([
    'not-media',
    'unreadable',
    'empty',
    'too-large',
    'symlink-loop',
    'not-a-file',
    'bad-name',
    'duplicate',
  ]),
  detail: z.string().optional(),
});
export type SkippedEntry = z.infer<typeof SkippedEntry>;

/**
 * A file the API refused in single-upload mode (`refused/<i>.json`): it is left out of the job and
 * gets one `failed` line in results.jsonl, while the rest of the run goes on.
 */
export const RefusedEntry = z.object({
  i: z.number().int().min(0),
  source: z.string(),
  sourceBytes: SourceBytes.optional(),
  /** The API's HTTP status. */
  status: z.number().int(),
  /** What the API said, without secrets. */
  reason: z.string(),
});
export type RefusedEntry = z.infer<typeof RefusedEntry>;

/** HTTP statuses by which the API refuses one file (not the request's credentials or the batch). */
export const FILE_REFUSAL_STATUSES: readonly number[] = [413, 415, 422];

/** Records a refused file (atomically; writing it twice gives the same file). */
/** Writes the refused entry of one file; returns its path. */
export async function writeRefused(paths: RunPaths, entry: RefusedEntry): Promise<string> {
  await mkdir(paths.refused, { recursive: true });
  const path = join(paths.refused, `${entry.i}.json`);
  await writeFileAtomic(path, JSON.stringify(RefusedEntry.parse(entry)));
  return path;
}

/** The run's refused files by manifest index (empty when none was refused). */
export async function readRefused(paths: RunPaths): Promise<Map<number, RefusedEntry>> {
  const out = new Map<number, RefusedEntry>();
  let names: string[];
  try {
    names = await readdir(paths.refused);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return out;
    throw error;
  }
  for (const name of names.filter((n) => /^\d+\.json$/.test(n))) {
    const entry = RefusedEntry.parse(JSON.parse(await readFile(join(paths.refused, name), 'utf8')));
    out.set(entry.i, entry);
  }
  return out;
}

/** Files of one run in the work dir. The work dir must be shared storage when workers run on several hosts. */
export function runPaths(workDir: string, runId: string) {
  const dir = resolve(workDir, 'runs', runId);
  return {
    dir,
    manifest: join(dir, 'manifest.jsonl'),
    skipped: join(dir, 'skipped.jsonl'),
    /** The upload units (shards/groups/chunks) with their manifest byte ranges. */
    plan: join(dir, 'plan.json'),
    /** Files listed from the output batch (`downloads.jsonl`), without their signed URLs. */
    downloads: join(dir, 'downloads.jsonl'),
    /** Files the API refused in single-upload mode, one `<i>.json` each. */
    refused: join(dir, 'refused'),
    /** Downloaded, not yet extracted/merged outputs. */
    raw: join(dir, 'raw'),
    /** With a bucket output: the output files, written here first and published to the bucket at finalize. */
    outputStaging: join(dir, 'output'),
  };
}
export type RunPaths = ReturnType<typeof runPaths>;

/**
 * Reads the newline-delimited JSON lines of `file` inside `[start, end)`, parsed with `schema`. `input`
 * gives those bytes from elsewhere (a ranged GET of the file's mirror); `file` then only names them.
 */
export async function* readJsonLines<S extends z.ZodType>(
  file: string,
  schema: S,
  range?: ByteRange,
  input?: Readable,
): AsyncGenerator<z.output<S>> {
  if (range && range.end <= range.start) {
    input?.destroy();
    return;
  }
  const stream =
    input ??
    createReadStream(file, range ? { start: range.start, end: Math.max(range.start, range.end - 1) } : {});
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (!line.trim()) continue;
    const parsed = schema.safeParse(JSON.parse(line));
    if (!parsed.success)
      throw new Error(`${file}: line ${n} of the range is malformed: ${parsed.error.issues[0]?.message}`);
    yield parsed.data;
  }
}
