import type { Job, Worker } from 'bullmq';
import type {
  JobData,
  JobName,
  Logger,
  QueueName,
  ServiceContext,
  Stage,
  UploadToSignedUrl,
} from '@rfbatch/shared';
import type { ResolvedIngestOptions } from './options.js';

/** What every ingest processor may use. */
export interface IngestDeps {
  ctx: ServiceContext;
  options: ResolvedIngestOptions;
  /** The signed-URL uploader (the shared one; a test may wrap it). */
  upload: UploadToSignedUrl;
}

/** The job being processed, with its worker's lock token and a per-job logger. */
export interface JobContext {
  job: Job;
  token: string | undefined;
  signal: AbortSignal | undefined;
  worker: Worker;
  log: Logger;
  /** The run stage a final failure is reported under; a processor may move it on (plan → upload). */
  stage: Stage;
}

export type Processor<Q extends QueueName, N extends JobName<Q>> = (
  data: JobData<Q, N>,
  jc: JobContext,
  deps: IngestDeps,
) => Promise<unknown>;

/** One processor per job name of a queue: a missing one is a compile error. */
export type ProcessorMap<Q extends QueueName> = { [N in JobName<Q>]: Processor<Q, N> };
