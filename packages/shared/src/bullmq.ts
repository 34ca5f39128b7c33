import { Queue, type ConnectionOptions, type Job, type JobsOptions } from 'bullmq';
import { bullmqTelemetry } from './telemetry/bullmq.js';
import { jobSchema, QUEUE_NAMES, type JobInput, type JobName, type QueueName } from './queues.js';

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
    const queue = new Queue(name, {
      connection,
      prefix,
      defaultJobOptions: DEFAULT_JOB_OPTIONS,
      ...bullmqTelemetry(),
    });
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
