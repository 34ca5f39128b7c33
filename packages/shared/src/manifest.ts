import { createReadStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import type { ByteRange } from './queues.js';

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
    /** Downloaded, not yet extracted/merged outputs. */
    raw: join(dir, 'raw'),
  };
}
export type RunPaths = ReturnType<typeof runPaths>;

/** Reads the newline-delimited JSON lines of `file` inside `[start, end)`, parsed with `schema`. */
export async function* readJsonLines<S extends z.ZodType>(
  file: string,
  schema: S,
  range?: ByteRange,
): AsyncGenerator<z.output<S>> {
  const stream = createReadStream(
    file,
    range ? { start: range.start, end: Math.max(range.start, range.end - 1) } : {},
  );
  if (range && range.end <= range.start) return;
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
