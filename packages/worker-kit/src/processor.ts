import type { Job } from 'bullmq';
import type {
  JobData,
  JobName,
  JobKeptState,
  Logger,
  QueueName,
  ResolvedRunSpec,
  RunState,
  Stage,
} from '@rfbatch/shared';

/** What every processor gets from the kit: the parsed job and what it needs to act on it. */
export interface JobContext<Q extends QueueName, N extends JobName<Q>> {
  queue: Q;
  name: N;
  /** The payload, parsed against the catalog (a malformed one never reaches a processor). */
  data: JobData<Q, N>;
  /** The progress this job kept in its data (`saveState`); a key never saved, or unreadable, is absent. */
  state: JobKeptState<Q, N>;
  job: Job;
  /** The worker's lock token (for moveToDelayed / moveToWaitingChildren). */
  token: string | undefined;
  /** Aborted when the worker closes or the job's lock is lost. */
  signal: AbortSignal | undefined;
  /** A child logger bound to `{queue, job, bullJobId, runId, attempt}` (`roboflowJobId` names a Roboflow job). */
  log: Logger;
  /** Where a final failure fails the run: the catalog's stage; a processor may move it on (plan → upload). */
  stage: Stage;
  /** Merges `patch` into the kept state (job.updateData), so a retry or the next poll continues from it. */
  saveState(patch: Partial<JobKeptState<Q, N>>): Promise<void>;
  /** Saves `patch`, parks the job in the delayed set for `delayMs` and frees the worker slot. */
  delay(delayMs: number, patch?: Partial<JobKeptState<Q, N>>): Promise<never>;
}

/** A run-bound job (its payload names a run) also gets the run as it was when the job started, and its spec. */
export interface RunContext {
  run: RunState;
  spec: ResolvedRunSpec;
}

/** The context of a processor of job `N`: the run and spec are there exactly when the payload has a runId. */
export type ProcessorContext<Q extends QueueName, N extends JobName<Q>> = JobContext<Q, N> &
  (JobData<Q, N> extends { runId: string } ? RunContext : unknown);

/**
 * When the kit does not call a run-bound job's handler (and completes the job with `{skipped}`):
 * - `ended-or-stale`: the run has ended (completed, failed, cancelled) or the job is of an older attempt;
 * - `ended`: the run has ended (jobs of an older attempt still run: their work is kept across attempts);
 * - `never`: the handler decides (a parent woken by a child that failed the run must fail as well).
 */
export type SkipPolicy = 'ended-or-stale' | 'ended' | 'never';

export interface ProcessorOptions<Q extends QueueName, N extends JobName<Q>> {
  /** @defaultValue 'ended-or-stale' */
  skip?: SkipPolicy;
  /** The unit of work a failure names in front of the run error: `shard 3: "a.png" changed size`. */
  unit?: (data: JobData<Q, N>) => string;
}

/** The handler of one catalog job, with the dependencies `D` of its service. */
export interface Processor<Q extends QueueName, N extends JobName<Q>, D> {
  readonly queue: Q;
  readonly name: N;
  readonly skip: SkipPolicy;
  readonly unit: ((data: JobData<Q, N>) => string) | undefined;
  readonly handle: (jc: ProcessorContext<Q, N>, deps: D) => Promise<unknown>;
}

/**
 * Defines the processor of catalog job `queue`/`name`: `handle` gets the parsed payload and state, the
 * job, and (run-bound jobs) the run and spec, plus the service's dependencies.
 */
export function defineProcessor<Q extends QueueName, N extends JobName<Q>, D>(
  queue: Q,
  name: N,
  handle: (jc: ProcessorContext<Q, N>, deps: D) => Promise<unknown>,
  options: ProcessorOptions<Q, N> = {},
): Processor<Q, N, D> {
  return { queue, name, handle, skip: options.skip ?? 'ended-or-stale', unit: options.unit };
}

/**
 * One processor per job name of a queue. A missing handler, an extra one or one defined for another
 * job is a compile error (checked again at start-up by `assertProcessors`).
 */
export type ProcessorMap<Q extends QueueName, D> = { [N in JobName<Q>]: Processor<Q, N, D> };

/** `P` when it has exactly the job names of `Q` as keys; an extra key becomes an error at that key. */
export type ExactProcessorMap<Q extends QueueName, D, P> = ProcessorMap<Q, D> & {
  [K in Exclude<keyof P, JobName<Q>>]: never;
};
