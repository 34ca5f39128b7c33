import {
  DelayedError,
  Queue,
  RateLimitError,
  UnrecoverableError,
  WaitingChildrenError,
  type ConnectionOptions,
  type Job,
  type JobsOptions,
} from 'bullmq';
import { describeError, isRetryable } from './errors.js';
import {
  jobSchema,
  QUEUE_NAMES,
  type JobInput,
  type JobData,
  type JobName,
  type QueueName,
} from './queues.js';
import { zodProblems } from './validation.js';

/** Retention and retry defaults for every rfbatch job. Processors override attempts where it matters. */
export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
  removeOnFail: { age: 30 * 24 * 3600 },
};

export type Queues = Record<QueueName, Queue>;

export function createQueues(connection: ConnectionOptions, prefix: string): Queues {
  const entries = QUEUE_NAMES.map((name) => {
    const queue = new Queue(name, { connection, prefix, defaultJobOptions: DEFAULT_JOB_OPTIONS });
    // Errors surface where the queue is used; this only keeps an unhandled 'error' from crashing us.
    queue.on('error', () => {});
    return [name, queue] as const;
  });
  return Object.fromEntries(entries) as Queues;
}

export async function closeQueues(queues: Queues): Promise<void> {
  await Promise.all(Object.values(queues).map((q) => q.close()));
}

/** Validates the payload against the catalog, then adds it under a deterministic id. */
export async function enqueue<Q extends QueueName, N extends JobName<Q>>(
  queues: Queues,
  queue: Q,
  name: N,
  data: JobInput<Q, N>,
  opts: JobsOptions & { jobId: string },
): Promise<Job> {
  const parsed = jobSchema(queue, name).parse(data);
  return queues[queue].add(name, parsed, opts);
}

/**
 * Parses a received job's payload. A malformed payload can never succeed, so it fails at once
 * (UnrecoverableError: no retries) with the field errors.
 */
export function receive<Q extends QueueName, N extends JobName<Q>>(
  queue: Q,
  name: N,
  job: Job,
): JobData<Q, N> {
  const result = jobSchema(queue, name).safeParse(job.data);
  if (!result.success) {
    const list = zodProblems(result.error)
      .map((p) => `${p.path}: ${p.message}`)
      .join('; ');
    throw new UnrecoverableError(`malformed ${queue}/${name} job ${job.id}: ${list}`);
  }
  return result.data;
}

/** At the processor boundary: non-retryable errors become UnrecoverableError so BullMQ stops retrying. */
export function toBullError(error: unknown): Error {
  if (error instanceof UnrecoverableError) return error;
  if (!isRetryable(error)) {
    const wrapped = new UnrecoverableError(describeError(error));
    wrapped.cause = error;
    return wrapped;
  }
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * BullMQ's control-flow "errors" (DelayedError, WaitingChildrenError, RateLimitError): a job parked on
 * purpose, nothing failed. They pass through a processor boundary untouched. Matched by name too, in
 * case a second copy of bullmq made them.
 */
export function isControlFlow(error: unknown): boolean {
  return (
    error instanceof DelayedError ||
    error instanceof WaitingChildrenError ||
    error instanceof RateLimitError ||
    (error instanceof Error &&
      ['DelayedError', 'WaitingChildrenError', 'RateLimitError'].includes(error.name))
  );
}
