/**
 * Everything a route or worker needs, built once by the server. The workers are seen through the narrow
 * interfaces below, which they implement, so this file depends on none of them.
 */
import type { RestartOverrides } from '@rfbatch/shared';
import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import type { FaultController } from './faults.js';
import type { RequestLog } from './request-log.js';
import type { ResolvedOptions } from './options.js';
import type { UrlSigner } from './signing.js';
import type { JobRecord, ShardRecord, Store } from './store.js';
import type { WebhookSender } from './webhooks.js';

/** Sends a shard's notifications once it is indexed (staging/indexer.ts). */
export interface ShardScheduler {
  /** Arms (or re-arms) the notification timer of a shard. */
  schedule(shard: ShardRecord): void;
}

/** Learns when the shards of a references ingest are indexed (staging/references.ts). */
export interface IndexedShardListener {
  /** Called for every indexed shard of a references ingest. */
  shardIndexed(shard: ShardRecord): void;
}

/** Starts and steers jobs (jobs/job-lifecycle.ts). */
export interface JobControl {
  /** Records a new job (already validated) and starts it. */
  create(jobId: string, name: string, definition: Record<string, unknown>, definitionKey: string): JobRecord;
  abort(job: JobRecord): void;
  restart(job: JobRecord, overrides: RestartOverrides | undefined): void;
}

export interface Deps {
  options: ResolvedOptions;
  clock: Clock;
  store: Store;
  signer: UrlSigner;
  faults: FaultController;
  webhooks: WebhookSender;
  logger: Logger;
  indexer: ShardScheduler;
  jobs: JobControl;
  references: IndexedShardListener;
  requests: RequestLog;
}

/** Signed-URL lifetime now (the fault override wins). */
export function signedUrlTtlS(deps: Deps): number {
  return deps.faults.get().signedUrlTtlS ?? deps.options.signedUrlTtlS;
}
