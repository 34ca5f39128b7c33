import { z } from 'zod';

/** Why a remote job failed, as rfbatch reads its logs (services/jobs `triage.ts`). */
export const FailureClass = z.enum([
  'out-of-memory',
  'timeout',
  'image-failures',
  'workflow-error',
  /** The job's input data is gone (staged data expires after 7 days). */
  'input-missing',
  'aborted',
  'unknown',
]);
export type FailureClass = z.infer<typeof FailureClass>;

/**
 * Restart overrides as a user types them (`rfbatch retry --machine … --workers-per-machine …`, or the
 * body of `POST /runs/:id/retry`): flat, without the API's `type` and nested `computeConfiguration`.
 */
export const RetryOverridesSchema = z.strictObject({
  machineType: z.enum(['cpu', 'gpu']).optional(),
  workersPerMachine: z.number().int().min(1).max(64).optional(),
  processingTimeoutSeconds: z
    .number()
    .int()
    .min(60)
    .max(7 * 24 * 3600)
    .optional(),
  maxParallelTasks: z.number().int().min(1).max(10_000).optional(),
  maxImageFailureRate: z.number().min(0).max(1).optional(),
});
export type RetryOverrides = z.infer<typeof RetryOverridesSchema>;

/** The triage of a failed remote job: its cause, the log lines that show it, and what to restart with. */
export const JobTriage = z.object({
  class: FailureClass,
  /** One sentence: what happened and why rfbatch thinks so. */
  summary: z.string(),
  /** The log lines (or notification) that show the cause, most telling first; redacted. */
  evidence: z.array(z.string()),
  /** What to change on restart; absent when no setting is known to help. */
  suggestedOverrides: RetryOverridesSchema.optional(),
  /** The command that restarts the job with the suggestion (or the fix to make first). */
  suggestion: z.string(),
  /** Images the job reported as failed (at most a few dozen): the name in the batch, and the source file when known. */
  failedImages: z.array(z.object({ name: z.string(), source: z.string().optional() })).optional(),
  /** Log lines read, and whether reading stopped at the cap. */
  logsRead: z.number().int().min(0),
  logsTruncated: z.boolean(),
});
export type JobTriage = z.infer<typeof JobTriage>;
