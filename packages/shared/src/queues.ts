import { z } from 'zod';
import { RunIdSchema } from './ids.js';
import { RunSpecSchema } from './run-spec.schema.js';

/** The BullMQ queues of rfbatch, in run order. */
export const QueueName = { runs: 'runs', ingest: 'ingest', jobs: 'jobs', export: 'export' } as const;
export type QueueName = (typeof QueueName)[keyof typeof QueueName];
export const QUEUE_NAMES = Object.values(QueueName);

/** The stages of a run, in order; `failedStage` of a run names one of them. */
export const Stage = z.enum([
  'plan',
  'upload',
  'verify',
  'start',
  'await',
  'collect',
  'download',
  'finalize',
]);
export type Stage = z.infer<typeof Stage>;

/** A half-open byte range `[start, end)` of a newline-delimited file in the run's work dir. */
export const ByteRange = z.strictObject({ start: z.number().int().min(0), end: z.number().int().min(0) });
export type ByteRange = z.infer<typeof ByteRange>;

const RunRef = z.strictObject({ runId: RunIdSchema, attempt: z.number().int().min(0).default(0) });
const n = z.number().int().min(0);

/**
 * What a polling job (verify, await) remembers between its polls, in its own job data (`wait`), so a
 * worker that dies loses nothing: the next worker continues with the same budget and interval.
 */
export const WaitState = z.object({
  /** Polls made so far. */
  polls: z.number().int().min(0),
  /** When the first poll ran (epoch ms): the total wait is measured from here. */
  firstSeenAt: z.number(),
  /** Last value seen (item count) and since when it has not changed (epoch ms). */
  lastValue: z.number().optional(),
  unchangedSince: z.number().optional(),
});
export type WaitState = z.infer<typeof WaitState>;

/** Where a collect job is: listing, adding download children, or waiting for them. */
export const CollectStep = z.enum(['list', 'children', 'wait']);
export type CollectStep = z.infer<typeof CollectStep>;

/** One job of the catalog. */
export interface JobEntry {
  /** The run stage the job stands for: where its final failure fails the run. */
  readonly stage: Stage;
  /** What producers put in job.data: parsed (strictly) when enqueued and again when received. */
  readonly payload: z.ZodObject;
  /**
   * Progress the processor keeps in its own job.data (job.updateData) between tries or polls. Every
   * key is optional; a key that does not parse (written by an older version) reads as absent.
   */
  readonly state?: z.ZodObject;
  /** The failed stages whose retry starts again at this job (RESUME_POINT). */
  readonly resumes?: readonly Stage[];
}

/**
 * The job catalog: queue → job name → its stage, payload schema and kept state. Payloads hold ids and
 * byte ranges only: O(shards) in Redis, never O(files), and never a secret or a signed URL.
 */
export const JobCatalog = {
  runs: {
    /** A submitted run (ids may be missing; intake settles them). */
    intake: { stage: 'plan', payload: z.strictObject({ spec: RunSpecSchema }) },
  },
  ingest: {
    /** Scan the source, write the manifest, add upload children, then (as parent) hand off to jobs. */
    plan: { stage: 'plan', payload: RunRef, resumes: ['plan', 'upload'] },
    /** Pack manifest lines [range) into one tar and PUT it to a fresh signed URL. */
    shard: { stage: 'upload', payload: RunRef.extend({ shard: n, range: ByteRange }) },
    /** Upload manifest lines [range) one by one (single images or videos). */
    files: { stage: 'upload', payload: RunRef.extend({ group: n, range: ByteRange }) },
    /** Send manifest lines [range) of a references source as one ingest request. */
    references: { stage: 'upload', payload: RunRef.extend({ chunk: n, range: ByteRange }) },
  },
  jobs: {
    /** Poll the batch until it holds every expected item. */
    verify: {
      stage: 'verify',
      payload: RunRef,
      state: z.object({ wait: WaitState.optional() }),
      resumes: ['verify'],
    },
    /** Start the remote job. */
    start: { stage: 'start', payload: RunRef, resumes: ['start'] },
    /** Follow the remote job until it ends. */
    await: {
      stage: 'await',
      payload: RunRef,
      state: z.object({ wait: WaitState.optional() }),
      resumes: ['await'],
    },
  },
  export: {
    /** Find the output batch, list its files to the downloads file, add download children. */
    collect: {
      stage: 'collect',
      payload: RunRef,
      state: z.object({ step: CollectStep.optional() }),
      resumes: ['collect', 'download'],
    },
    /** Download lines [range) of the downloads file. */
    download: { stage: 'download', payload: RunRef.extend({ group: n, range: ByteRange }) },
    /** Join results to sources, write the summary, complete the run. */
    finalize: { stage: 'finalize', payload: RunRef, resumes: ['finalize'] },
  },
} as const satisfies Record<QueueName, Record<string, JobEntry>>;

export type JobCatalog = typeof JobCatalog;
export type JobName<Q extends QueueName> = keyof JobCatalog[Q] & string;
type EntryOf<Q extends QueueName, N extends JobName<Q>> = JobCatalog[Q][N] & JobEntry;
export type JobData<Q extends QueueName, N extends JobName<Q>> = z.output<EntryOf<Q, N>['payload']>;
export type JobInput<Q extends QueueName, N extends JobName<Q>> = z.input<EntryOf<Q, N>['payload']>;
/** The progress a job keeps in its data (empty for a job that keeps none). */
export type JobKeptState<Q extends QueueName, N extends JobName<Q>> =
  EntryOf<Q, N> extends { state: infer S extends z.ZodObject } ? z.output<S> : Record<never, never>;

/** The catalog entry of one job; undefined for a name the queue does not have. */
export function catalogEntry(queue: QueueName, name: string): JobEntry | undefined {
  const jobs: Record<string, JobEntry> = JobCatalog[queue];
  return Object.hasOwn(jobs, name) ? jobs[name] : undefined;
}

/** The job names of a queue, in catalog order. */
export function jobNames<Q extends QueueName>(queue: Q): JobName<Q>[] {
  return Object.keys(JobCatalog[queue]) as JobName<Q>[];
}

/** The payload schema of one job, for parsing on enqueue. */
export function jobSchema<Q extends QueueName, N extends JobName<Q>>(
  queue: Q,
  name: N,
): z.ZodType<JobData<Q, N>, JobInput<Q, N>> {
  return (catalogEntry(queue, name) as JobEntry).payload as unknown as z.ZodType<
    JobData<Q, N>,
    JobInput<Q, N>
  >;
}

/** The run stage a job stands for (where its final failure fails the run). */
export function jobStage<Q extends QueueName>(queue: Q, name: JobName<Q>): Stage {
  return (catalogEntry(queue, name) as JobEntry).stage;
}

/**
 * The run a job's data names: `runId` of a run-bound job, or the `spec.runId` a submitted run may
 * carry (intake). Undefined when there is none (yet).
 */
export function jobRunId(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const { runId, spec } = data as { runId?: unknown; spec?: { runId?: unknown } };
  if (typeof runId === 'string') return runId;
  return typeof spec?.runId === 'string' ? spec.runId : undefined;
}

/**
 * Deterministic BullMQ job id: `<name>-<runId>[-<n>]`, plus `-a<attempt>` after a retry, so adding
 * the same work twice is a no-op and a retry gets fresh jobs. Never contains ":".
 */
export function stageJobId(name: string, runId: string, attempt = 0, n?: number): string {
  const base = n === undefined ? `${name}-${runId}` : `${name}-${runId}-${n}`;
  return attempt > 0 ? `${base}-a${attempt}` : base;
}

/** The stages that some catalog entry resumes: every stage must be one (checked by the compiler). */
type Resumed = {
  [Q in QueueName]: {
    [N in JobName<Q>]: JobCatalog[Q][N] extends { resumes: readonly (infer S)[] } ? S : never;
  }[JobName<Q>];
}[QueueName];
const everyStageResumes: [Exclude<Stage, Resumed>] extends [never] ? true : never = true;

/** Where a retry of a run that failed at `stage` starts again: the catalog entry that `resumes` it. */
export const RESUME_POINT: Record<Stage, { queue: QueueName; name: string }> =
  resumePoints(everyStageResumes);

function resumePoints(_checked: true): Record<Stage, { queue: QueueName; name: string }> {
  const points: Partial<Record<Stage, { queue: QueueName; name: string }>> = {};
  for (const queue of QUEUE_NAMES) {
    for (const [name, entry] of Object.entries<JobEntry>(JobCatalog[queue])) {
      for (const stage of entry.resumes ?? []) points[stage] = { queue, name };
    }
  }
  return points as Record<Stage, { queue: QueueName; name: string }>;
}
