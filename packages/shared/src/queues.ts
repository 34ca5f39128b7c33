import { z } from 'zod';
import { RunIdSchema } from './ids.js';
import { RunSpecSchema } from './run-spec.schema.js';

/** The BullMQ queues of rfbatch, in run order. */
export const QueueName = { runs: 'runs', ingest: 'ingest', jobs: 'jobs', export: 'export' } as const;
export type QueueName = (typeof QueueName)[keyof typeof QueueName];
export const QUEUE_NAMES = Object.values(QueueName);

/** A half-open byte range `[start, end)` of a newline-delimited file in the run's work dir. */
export const ByteRange = z.strictObject({ start: z.number().int().min(0), end: z.number().int().min(0) });
export type ByteRange = z.infer<typeof ByteRange>;

const RunRef = z.strictObject({ runId: RunIdSchema, attempt: z.number().int().min(0).default(0) });

/**
 * The job catalog: queue → job name → payload schema. Payloads are parsed when enqueued and again when
 * a worker receives them. They hold ids and byte ranges only: O(shards) in Redis, never O(files),
 * and never a secret or a signed URL.
 */
export const JobCatalog = {
  runs: {
    /** A submitted run (ids may be missing; intake settles them). */
    intake: z.strictObject({ spec: RunSpecSchema }),
  },
  ingest: {
    /** Scan the source, write the manifest, add upload children, then (as parent) hand off to jobs. */
    plan: RunRef,
    /** Pack manifest lines [range) into one tar and PUT it to a fresh signed URL. */
    shard: RunRef.extend({ shard: z.number().int().min(0), range: ByteRange }),
    /** Upload manifest lines [range) one by one (single images or videos). */
    files: RunRef.extend({ group: z.number().int().min(0), range: ByteRange }),
    /** Send manifest lines [range) of a references source as one ingest request. */
    references: RunRef.extend({ chunk: z.number().int().min(0), range: ByteRange }),
  },
  jobs: {
    verify: RunRef,
    start: RunRef,
    await: RunRef,
  },
  export: {
    /** Find the output batch, list its files to the downloads file, add download children. */
    collect: RunRef,
    /** Download lines [range) of the downloads file. */
    download: RunRef.extend({ group: z.number().int().min(0), range: ByteRange }),
    finalize: RunRef,
  },
} as const satisfies Record<QueueName, Record<string, z.ZodType>>;

export type JobCatalog = typeof JobCatalog;
export type JobName<Q extends QueueName> = keyof JobCatalog[Q] & string;
export type JobData<Q extends QueueName, N extends JobName<Q>> = z.output<JobCatalog[Q][N] & z.ZodType>;
export type JobInput<Q extends QueueName, N extends JobName<Q>> = z.input<JobCatalog[Q][N] & z.ZodType>;

/** The schema of one job, for parsing on receipt. */
export function jobSchema<Q extends QueueName, N extends JobName<Q>>(
  queue: Q,
  name: N,
): z.ZodType<JobData<Q, N>> {
  return (JobCatalog[queue] as Record<string, z.ZodType>)[name] as z.ZodType<JobData<Q, N>>;
}

/**
 * Deterministic BullMQ job id: `<name>-<runId>[-<n>]`, plus `-a<attempt>` after a retry, so adding
 * the same work twice is a no-op and a retry gets fresh jobs. Never contains ":".
 */
export function stageJobId(name: string, runId: string, attempt = 0, n?: number): string {
  const base = n === undefined ? `${name}-${runId}` : `${name}-${runId}-${n}`;
  return attempt > 0 ? `${base}-a${attempt}` : base;
}

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

/** Where a retry of a run that failed at `stage` starts again. */
export const RESUME_POINT: Record<Stage, { queue: QueueName; name: string }> = {
  plan: { queue: 'ingest', name: 'plan' },
  upload: { queue: 'ingest', name: 'plan' },
  verify: { queue: 'jobs', name: 'verify' },
  start: { queue: 'jobs', name: 'start' },
  await: { queue: 'jobs', name: 'await' },
  collect: { queue: 'export', name: 'collect' },
  download: { queue: 'export', name: 'collect' },
  finalize: { queue: 'export', name: 'finalize' },
};
