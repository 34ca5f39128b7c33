import { z } from 'zod';
import {
  serviceOptions,
  wholeNumber,
  type Deprecation,
  type EnvSource,
  type OptionsOf,
} from '@rfbatch/shared';

/**
 * Options of the jobs service (verify, start, await): defaults, descriptions and variables
 * (`RFBATCH_JOBS_<FIELD>`) in one place. Every duration can be shortened for tests.
 */
export const JobsOptionsSchema = serviceOptions(
  'jobs',
  z.object({
    concurrency: wholeNumber(1).default(8).describe('verify/start/await jobs at once'),
    pollMinMs: wholeNumber(0).default(1_000).describe('first wait between two polls of the remote side'),
    pollMaxMs: wholeNumber(0)
      .default(30_000)
      .describe('longest wait between two polls; each wait is 1.5× the one before, up to this'),
    verifyTimeoutMs: wholeNumber(0)
      .default(30 * 60_000)
      .describe('longest wait for the batch to hold every expected item'),
    shardErrorGraceMs: wholeNumber(0)
      .default(60_000)
      .describe(
        'how long the item count may stay unchanged while a shard reports an error before verify gives up (an errored shard never delivers its items)',
      ),
    defaultProcessingTimeoutSeconds: wholeNumber(1)
      .default(24 * 3600)
      .describe('processing timeout assumed when the RunSpec sets none'),
    awaitMarginMs: wholeNumber(0)
      .default(30 * 60_000)
      .describe("added to the job's processing timeout to bound the await stage (queueing, start-up)"),
    failureLogLines: wholeNumber(0)
      .default(3)
      .describe('error log lines of a failed remote job copied into the run error'),
    lockDurationMs: wholeNumber(1_000)
      .default(30_000)
      .describe("BullMQ lock of an active job; a killed worker's job is taken over after about this long"),
    stalledIntervalMs: wholeNumber(1_000).optional().meta({
      description: 'how often the worker looks for stalled jobs',
      defaultText: 'the lock duration',
    }),
  }),
  {
    pollMinMs: ['RFBATCH_POLL_MIN_MS'],
    pollMaxMs: ['RFBATCH_POLL_MAX_MS'],
    verifyTimeoutMs: ['RFBATCH_VERIFY_TIMEOUT_MS'],
    awaitMarginMs: ['RFBATCH_AWAIT_MARGIN_MS'],
    lockDurationMs: ['RFBATCH_LOCK_DURATION_MS'],
  },
);

export type JobsServiceOptions = OptionsOf<typeof JobsOptionsSchema>;
export type ResolvedJobsOptions = Required<JobsServiceOptions>;

export function resolveJobsOptions(options: JobsServiceOptions = {}): ResolvedJobsOptions {
  const resolved = JobsOptionsSchema.withDefaults(options);
  return { ...resolved, stalledIntervalMs: resolved.stalledIntervalMs ?? resolved.lockDurationMs };
}

/** The jobs options the environment sets; every bad variable is listed in one error. */
export function jobsOptionsFromEnv(
  env: EnvSource = process.env,
  onDeprecated?: (d: Deprecation) => void,
): JobsServiceOptions {
  return JobsOptionsSchema.fromEnv(env, onDeprecated);
}
