import type { ServiceOptions } from '@rfbatch/shared';

/** Options of the jobs service (verify, start, await). Every duration can be shortened for tests. */
export interface JobsServiceOptions extends ServiceOptions {
  /** First wait between two polls of the remote side. @defaultValue 1_000 */
  pollMinMs?: number;
  /** Longest wait between two polls; each wait is 1.5× the one before, up to this. @defaultValue 30_000 */
  pollMaxMs?: number;
  /** Longest total wait for the batch to hold every expected item. @defaultValue 1_800_000 (30 min) */
  verifyTimeoutMs?: number;
  /**
   * How long the item count may stay unchanged while a shard reports an error before verify gives up
   * (an errored shard never delivers its items). @defaultValue 60_000
   */
  shardErrorGraceMs?: number;
  /** Processing timeout assumed when the RunSpec sets none. @defaultValue 86_400 (one day) */
  defaultProcessingTimeoutSeconds?: number;
  /** Added to the job's processing timeout to bound the await stage (queueing, start-up). @defaultValue 1_800_000 */
  awaitMarginMs?: number;
  /** Error log lines of a failed remote job copied into the run error. @defaultValue 3 */
  failureLogLines?: number;
  /** BullMQ lock of an active job; a killed worker's job is taken over after about this long. @defaultValue 30_000 */
  lockDurationMs?: number;
  /** How often the worker looks for stalled jobs. @defaultValue lockDurationMs */
  stalledIntervalMs?: number;
}

export type ResolvedJobsOptions = Required<JobsServiceOptions>;

export function resolveJobsOptions(options: JobsServiceOptions = {}): ResolvedJobsOptions {
  const lockDurationMs = options.lockDurationMs ?? 30_000;
  return {
    concurrency: options.concurrency ?? 8,
    pollMinMs: options.pollMinMs ?? 1_000,
    pollMaxMs: options.pollMaxMs ?? 30_000,
    verifyTimeoutMs: options.verifyTimeoutMs ?? 30 * 60_000,
    shardErrorGraceMs: options.shardErrorGraceMs ?? 60_000,
    defaultProcessingTimeoutSeconds: options.defaultProcessingTimeoutSeconds ?? 24 * 3600,
    awaitMarginMs: options.awaitMarginMs ?? 30 * 60_000,
    failureLogLines: options.failureLogLines ?? 3,
    lockDurationMs,
    stalledIntervalMs: options.stalledIntervalMs ?? lockDurationMs,
  };
}
