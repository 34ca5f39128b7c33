/** Everything a route or worker needs, built once by the server. */
import type { Logger } from 'pino';
import type { FaultController } from './faults.js';
import type { ResolvedOptions } from './options.js';
import type { UrlSigner } from './signing.js';
import type { Store } from './store.js';
import type { WebhookSender } from './webhooks.js';
import type { Indexer } from './staging/indexer.js';
import type { JobEngine } from './jobs/engine.js';
import type { ReferencesIngester } from './staging/references.js';
import type { ExpirySweeper } from './staging/expiry.js';

export interface Deps {
  options: ResolvedOptions;
  store: Store;
  signer: UrlSigner;
  faults: FaultController;
  webhooks: WebhookSender;
  logger: Logger;
  indexer: Indexer;
  jobs: JobEngine;
  references: ReferencesIngester;
  expiry: ExpirySweeper;
}

/** Signed-URL lifetime now (the fault override wins). */
export function signedUrlTtlS(deps: Deps): number {
  return deps.faults.get().signedUrlTtlS ?? deps.options.signedUrlTtlS;
}

export const nowIso = (ms = Date.now()): string => new Date(ms).toISOString();
