import { z } from 'zod';
import {
  serviceOptions,
  wholeNumber,
  type Deprecation,
  type EnvSource,
  type OptionsOf,
  type UploadToSignedUrl,
} from '@rfbatch/shared';

/**
 * Options of the ingest service: defaults, descriptions and variables (`RFBATCH_INGEST_<FIELD>`)
 * in one place.
 */
export const IngestOptionsSchema = serviceOptions(
  'ingest',
  z.object({
    concurrency: wholeNumber(1, 256)
      .default(32)
      .describe(
        'jobs of the `ingest` queue (plan, shards, file groups, reference chunks) at once per process: each shard is one streamed PUT, so this is the number of upload streams in flight',
      ),
    sharedUploads: wholeNumber(1, 100_000)
      .optional()
      .describe(
        'upload streams in flight across every ingest process sharing this Redis and prefix (each stream holds a Redis lease while it sends); unset: each process is bounded by its own concurrency only',
      ),
    runsConcurrency: wholeNumber(1, 64).default(2).describe('jobs of the `runs` queue (intake) at once'),
    filesConcurrency: wholeNumber(1, 64).optional().meta({
      description: 'files uploaded at once inside one `files` job',
      defaultText: '8 images / 2 videos',
    }),
    uploadTries: wholeNumber(1, 20)
      .default(3)
      .describe(
        'signed-URL PUTs tried inside one shard or video job, each with a fresh URL, before BullMQ retries the job',
      ),
    lockDurationMs: wholeNumber(1_000)
      .default(30_000)
      .describe(
        "how long a worker's lock on a job lasts without renewal; a killed worker's job is retried after it",
      ),
    stalledIntervalMs: wholeNumber(1_000)
      .default(30_000)
      .describe('how often workers look for jobs whose worker died'),
  }),
);

export type IngestOptions = OptionsOf<typeof IngestOptionsSchema> & {
  /** The signed-URL uploader. @defaultValue uploadToSignedUrl of @rfbatch/shared */
  upload?: UploadToSignedUrl;
};
export type ResolvedIngestOptions = Omit<
  Required<OptionsOf<typeof IngestOptionsSchema>>,
  'filesConcurrency' | 'sharedUploads'
> & {
  filesConcurrency: number | undefined;
  sharedUploads: number | undefined;
};

export function resolveIngestOptions(options: IngestOptions = {}): ResolvedIngestOptions {
  const resolved = IngestOptionsSchema.withDefaults(options);
  return { ...resolved, filesConcurrency: resolved.filesConcurrency, sharedUploads: resolved.sharedUploads };
}

/** The ingest options the environment sets; every bad variable is listed in one error. */
export function ingestOptionsFromEnv(
  env: EnvSource = process.env,
  onDeprecated?: (d: Deprecation) => void,
): IngestOptions {
  return IngestOptionsSchema.fromEnv(env, onDeprecated);
}
