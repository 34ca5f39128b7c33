import { z } from 'zod';
import { parseEnv, type ServiceOptions, type UploadToSignedUrl } from '@rfbatch/shared';

/** Options of the ingest service; every one has a default. */
export interface IngestOptions extends ServiceOptions {
  /** Jobs of the `ingest` queue (plan, shards, file groups, reference chunks) at once. @defaultValue 4 */
  concurrency?: number;
  /** Jobs of the `runs` queue (intake) at once. @defaultValue 2 */
  runsConcurrency?: number;
  /** Files uploaded at once inside one `files` job. @defaultValue 8 for images, 2 for videos */
  filesConcurrency?: number;
  /** Signed-URL PUTs tried inside one shard or video job, each with a fresh URL, before BullMQ retries the job. @defaultValue 3 */
  uploadTries?: number;
  /** How long a worker's lock on a job lasts without renewal; a killed worker's job is retried after it. @defaultValue 30_000 */
  lockDurationMs?: number;
  /** How often workers look for jobs whose worker died. @defaultValue 30_000 */
  stalledIntervalMs?: number;
  /** The signed-URL uploader. @defaultValue uploadToSignedUrl of @rfbatch/shared */
  upload?: UploadToSignedUrl;
}
export type ResolvedIngestOptions = Required<Omit<IngestOptions, 'filesConcurrency' | 'upload'>> & {
  filesConcurrency: number | undefined;
};

export function resolveIngestOptions(options: IngestOptions = {}): ResolvedIngestOptions {
  return {
    concurrency: options.concurrency ?? 4,
    runsConcurrency: options.runsConcurrency ?? 2,
    filesConcurrency: options.filesConcurrency,
    uploadTries: options.uploadTries ?? 3,
    lockDurationMs: options.lockDurationMs ?? 30_000,
    stalledIntervalMs: options.stalledIntervalMs ?? 30_000,
  };
}

const positive = z.coerce.number().int().min(1);

/** The ingest process's own environment variables (the shared ones are read by loadConfig). */
export const IngestEnvSchema = z.object({
  RFBATCH_INGEST_CONCURRENCY: positive.max(256).optional(),
  RFBATCH_INGEST_RUNS_CONCURRENCY: positive.max(64).optional(),
  RFBATCH_INGEST_FILES_CONCURRENCY: positive.max(64).optional(),
  RFBATCH_INGEST_UPLOAD_TRIES: positive.max(20).optional(),
  RFBATCH_INGEST_LOCK_DURATION_MS: z.coerce.number().int().min(1_000).optional(),
  RFBATCH_INGEST_STALLED_INTERVAL_MS: z.coerce.number().int().min(1_000).optional(),
});

export function ingestOptionsFromEnv(env: Record<string, string | undefined> = process.env): IngestOptions {
  const e = parseEnv(IngestEnvSchema, env);
  const out: IngestOptions = {};
  if (e.RFBATCH_INGEST_CONCURRENCY) out.concurrency = e.RFBATCH_INGEST_CONCURRENCY;
  if (e.RFBATCH_INGEST_RUNS_CONCURRENCY) out.runsConcurrency = e.RFBATCH_INGEST_RUNS_CONCURRENCY;
  if (e.RFBATCH_INGEST_FILES_CONCURRENCY) out.filesConcurrency = e.RFBATCH_INGEST_FILES_CONCURRENCY;
  if (e.RFBATCH_INGEST_UPLOAD_TRIES) out.uploadTries = e.RFBATCH_INGEST_UPLOAD_TRIES;
  if (e.RFBATCH_INGEST_LOCK_DURATION_MS) out.lockDurationMs = e.RFBATCH_INGEST_LOCK_DURATION_MS;
  if (e.RFBATCH_INGEST_STALLED_INTERVAL_MS) out.stalledIntervalMs = e.RFBATCH_INGEST_STALLED_INTERVAL_MS;
  return out;
}
