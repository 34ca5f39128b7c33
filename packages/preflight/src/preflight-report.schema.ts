/** The report of `rfbatch preflight` / `rfbatch run --dry-run`: its checks, problems, warnings and plan. */
import { z } from 'zod';
import { SkippedEntry, UploadMode } from '@rfbatch/shared';

export const PreflightIssue = z.object({
  /** Stable code, e.g. `api.payment_required`, `source.invalid`, `job.id_taken`. */
  code: z.string(),
  message: z.string(),
  /** What to do about it. */
  fix: z.string(),
});
export type PreflightIssue = z.infer<typeof PreflightIssue>;

export const PreflightCheck = z.object({
  name: z.enum([
    'api-key',
    'workspace',
    'batch-processing',
    'credits',
    'ids',
    'job-id',
    'batch',
    'source',
    'webhooks',
    'timeout',
  ]),
  status: z.enum(['ok', 'problem', 'warning', 'skipped']),
  detail: z.string(),
});
export type PreflightCheck = z.infer<typeof PreflightCheck>;

/** The kind of batch an upload mode makes. */
const BatchType = z.enum(['simple-batch', 'sharded-batch']);
type BatchType = z.infer<typeof BatchType>;

export function batchTypeOf(mode: UploadMode): BatchType {
  return mode === 'single' || mode === 'videos' ? 'simple-batch' : 'sharded-batch';
}

export const PreflightPlan = z.object({
  source: z.string(),
  sourceKind: z.enum(['directory', 'references', 'bucket', 'staged']),
  media: z.enum(['images', 'videos']),
  /** Files that will be uploaded, and their bytes (0 for references). */
  files: z.number().int(),
  bytes: z.number().int(),
  /** Source entries seen, kept or not. */
  seen: z.number().int(),
  skipped: z.number().int(),
  skippedByReason: z.record(z.string(), z.number().int()),
  /** The first skipped files, with their reasons (all of them are in the run's skipped.jsonl). */
  skippedExamples: z.array(SkippedEntry),
  uploadMode: UploadMode,
  /** The kind of batch the uploads make. */
  batchType: BatchType,
  /** Upload units: tar shards, single-upload groups or reference chunks. */
  units: z.number().int(),
  shards: z.number().int(),
  largestUnitItems: z.number().int(),
  webhooks: z.object({
    /** A public gateway URL is configured, so webhooks can be received at all. */
    configured: z.boolean(),
    /** The API will send ingest (data staging) notifications for this upload mode. */
    ingest: z.boolean(),
    /** The API will send the job-completion notification. */
    job: z.boolean(),
  }),
  timeoutBudget: z.object({
    /** The budget to set (rounded up, at least 10 min). */
    estimatedSeconds: z.number().int(),
    /** The estimate before rounding: a configured timeout below it is warned about. */
    neededSeconds: z.number().int(),
    configuredSeconds: z.number().int().nullable(),
    basis: z.string(),
  }),
});
export type PreflightPlan = z.infer<typeof PreflightPlan>;

/** The report of `rfbatch preflight` / `rfbatch run --dry-run` (printed with --json as is). */
export const PreflightReport = z.object({
  /** False when a problem would make the run fail later. */
  ok: z.boolean(),
  runId: z.string(),
  batchId: z.string(),
  jobId: z.string(),
  workspace: z.string().nullable(),
  checks: z.array(PreflightCheck),
  problems: z.array(PreflightIssue),
  warnings: z.array(PreflightIssue),
  plan: PreflightPlan.nullable(),
});
export type PreflightReport = z.infer<typeof PreflightReport>;
