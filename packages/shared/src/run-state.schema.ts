import { z } from 'zod';
import { Stage } from './queues.js';
import { JobTriage } from './triage.schema.js';

/** Where a run is. Terminal: completed, failed, cancelled. */
export const RunStatus = z.enum([
  'queued',
  'planning',
  'uploading',
  'verifying',
  'starting',
  'processing',
  'exporting',
  'completed',
  'failed',
  'cancelled',
]);
export type RunStatus = z.infer<typeof RunStatus>;
export const TERMINAL_STATUSES: readonly RunStatus[] = ['completed', 'failed', 'cancelled'];

/** How a run's items reach the batch. */
export const UploadMode = z.enum(['single', 'shards', 'videos', 'references']);
export type UploadMode = z.infer<typeof UploadMode>;

/** Counters of a run, kept as Redis hash integers so workers can add to them atomically. */
export const Counter = z.enum([
  'sourceFiles',
  'skipped',
  'planned',
  'bytesTotal',
  'bytesUploaded',
  'shardsTotal',
  'shardsUploaded',
  'filesUploaded',
  'expected',
  'indexed',
  'downloadsTotal',
  'downloadsDone',
  'bytesDownloaded',
  'results',
  'missing',
]);
export type Counter = z.infer<typeof Counter>;

export const RunErrorInfo = z.object({
  code: z.string(),
  message: z.string(),
  hint: z.string().optional(),
  /** When the remote job failed: its cause, the evidence and the suggested restart overrides. */
  triage: JobTriage.optional(),
});
export type RunErrorInfo = z.infer<typeof RunErrorInfo>;

/** The remote job as last seen (normalised JobState plus what the run report needs). */
export const RemoteJobInfo = z.object({
  state: z.enum(['pending', 'processing', 'completed', 'failed']),
  stage: z.string().nullable(),
  progress: z.number().min(0).max(1).nullable(),
  checkedAt: z.string(),
  lastNotification: z.unknown().optional(),
});
export type RemoteJobInfo = z.infer<typeof RemoteJobInfo>;

export const StageTiming = z.object({ startedAt: z.string(), endedAt: z.string().optional() });

/** Everything known about a run, as RunStore.get returns it. */
export const RunStateSchema = z.object({
  runId: z.string(),
  status: RunStatus,
  attempt: z.number().int().min(0),
  createdAt: z.string(),
  updatedAt: z.string(),
  finishedAt: z.string().optional(),
  uploadMode: UploadMode.optional(),
  failedStage: Stage.optional(),
  error: RunErrorInfo.optional(),
  job: RemoteJobInfo.optional(),
  /** When the staged input batch expires (ISO), from the batch metadata. */
  batchExpiresAt: z.string().optional(),
  /** When the output batches expire (ISO). */
  outputExpiresAt: z.string().optional(),
  /** When the earliest presigned URL a bucket source sent as a reference stops working (ISO). */
  referencesExpireAt: z.string().optional(),
  counters: z.record(Counter, z.number()),
  timings: z.partialRecord(Stage, StageTiming),
  warnings: z.array(z.string()),
  /** While the run is going and a worker finds the API silent: since when, and until when it retries. */
  apiOutage: z.object({ since: z.string(), until: z.string(), lastError: z.string() }).optional(),
});
export type RunState = z.infer<typeof RunStateSchema>;
