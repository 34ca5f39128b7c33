import { QUEUE_NAMES, type QueueName, type Queues } from '@rfbatch/shared';

export interface QueueWorkers {
  /** Worker connections attached to the queue right now (any host, any language). */
  count: number;
  /** Seconds since each worker connection last sent a command (small = busy or polling). */
  idleSeconds: number[];
}

/**
 * Which queues have workers, as Redis sees it: BullMQ names every worker connection after its queue
 * (CLIENT SETNAME), so `CLIENT LIST` shows live workers of every process, wherever they run.
 */
export async function workersByQueue(queues: Queues): Promise<Record<QueueName, QueueWorkers>> {
  const entries = await Promise.all(
    QUEUE_NAMES.map(async (name) => {
      const clients = await queues[name].getWorkers();
      // GCP Memorystore refuses CLIENT LIST; BullMQ then returns one placeholder without an address.
      const real = clients.filter((c) => c.addr !== undefined);
      const idleSeconds = real.map((c) => Number(c.idle ?? 0));
      return [name, { count: real.length, idleSeconds }] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<QueueName, QueueWorkers>;
}

/** Queues that nobody works on: a run submitted now would wait there. */
export function queuesWithoutWorkers(seen: Record<QueueName, QueueWorkers>): QueueName[] {
  return QUEUE_NAMES.filter((name) => seen[name].count === 0);
}
