import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { ByteRange } from './queues.js';
import { UploadMode } from './run-state.schema.js';
import { writeFileAtomic } from './safe-write.js';

/** One upload unit: a tar shard, a group of single uploads, or a references chunk. */
export const PlanUnit = z.object({
  n: z.number().int().min(0),
  /** Its lines in manifest.jsonl, `[start, end)` in bytes. */
  range: ByteRange,
  count: z.number().int().min(1),
  /** Sum of the source file sizes (0 for references). */
  bytes: z.number().int().min(0),
});
export type PlanUnit = z.infer<typeof PlanUnit>;

/**
 * `plan.json` in the run's work dir, written after the manifest is complete: its presence means the plan
 * is final and may be reused by a retry or another worker. O(units), never O(files).
 */
export const PlanFile = z.object({
  version: z.literal(1),
  mode: UploadMode,
  kind: z.enum(['image', 'video']),
  /** Absolute source folder, so workers with another working directory find the files. */
  root: z.string().optional(),
  files: z.number().int().min(0),
  bytes: z.number().int().min(0),
  /** Source entries seen, kept or not. */
  seen: z.number().int().min(0),
  skipped: z.number().int().min(0),
  skippedByReason: z.record(z.string(), z.number().int()),
  units: z.array(PlanUnit),
});
export type PlanFile = z.infer<typeof PlanFile>;

/** Writes `plan.json` atomically (writeFileAtomic: an exclusive temp file, then a rename), so a reader never sees half of it. */
export async function writePlanFile(path: string, plan: PlanFile): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, JSON.stringify(plan));
}

/** The finished plan, or undefined when planning has not completed. */
export async function readPlanFile(path: string): Promise<PlanFile | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return PlanFile.parse(JSON.parse(text));
}
