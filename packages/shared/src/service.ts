import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import type { Queues } from './bullmq.js';
import type { RunStore } from './run-store.js';
import type { RoboflowClient } from './roboflow/client.types.js';
import type { Metrics } from './metrics.js';

/** What every service gets from its main (or from `rfbatch workers` / the demo, all in one process). */
export interface ServiceContext {
  config: Config;
  logger: Logger;
  /** Worker connection (maxRetriesPerRequest: null); BullMQ Workers duplicate it. */
  connection: Redis;
  queues: Queues;
  store: RunStore;
  client: RoboflowClient;
  /** Shared counters for the gateway's /metrics (optional: absent means nothing is recorded). */
  metrics?: Metrics;
}

export interface ServiceOptions {
  /** Jobs processed at once by each worker of the service. */
  concurrency?: number;
}

/** A started service: its workers, and a close that stops taking work and waits for running jobs. */
export interface RunningService {
  name: string;
  workers: Worker[];
  close(): Promise<void>;
}

export type StartService = (ctx: ServiceContext, options?: ServiceOptions) => Promise<RunningService>;
