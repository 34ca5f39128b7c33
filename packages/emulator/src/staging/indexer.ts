/**
 * Background indexing: a shard's items become visible at `indexAtMs` (the read paths check the clock, so
 * nothing is lost across a restart); this timer only sends the shard's notifications at that moment.
 */
import type { Timer } from '../clock.js';
import type { Deps, ShardScheduler } from '../context.js';
import type { ShardRecord } from '../store.js';
import { filesStatusPayload, ingestStatusPayload } from './notifications.js';

export class Indexer implements ShardScheduler {
  private readonly timers = new Map<string, Timer>();

  constructor(private readonly deps: Deps) {}

  /** Arms (or re-arms) the notification timer of a shard. */
  schedule(shard: ShardRecord): void {
    if (shard.notified || shard.indexAtMs === null) return;
    const existing = this.timers.get(shard.shardId);
    existing?.cancel();
    const timer = this.deps.clock.setTimeout(
      () => {
        this.timers.delete(shard.shardId);
        void this.indexed(shard.shardId);
      },
      Math.max(0, shard.indexAtMs - this.deps.clock.now()),
    );
    this.timers.set(shard.shardId, timer);
  }

  /** After a restart: every shard that has not notified yet. */
  resumeAll(): void {
    for (const shard of Object.values(this.deps.store.state.shards)) this.schedule(shard);
  }

  private async indexed(shardId: string): Promise<void> {
    const { store, webhooks, logger } = this.deps;
    const shard = store.state.shards[shardId];
    if (!shard || shard.notified) return;
    shard.notified = true;
    store.changed();
    logger.debug(
      { shardId, batchId: shard.batchId, objects: shard.objectsCount, error: shard.error?.type },
      'shard indexed',
    );
    if (!shard.notificationsURL || !shard.ingestId) return;
    const categories = shard.categories.length ? shard.categories : ['ingest-status', 'files-status'];
    if (categories.includes('files-status')) {
      const items = await store.shardItemsOf(shardId);
      const failed = shard.error
        ? [
            ...items.map((i) => ({
              type: shard.error?.type ?? 'ingest-error',
              file_name: i.fileName,
              reason: shard.error?.reason ?? '',
            })),
            ...shard.failedFiles,
          ]
        : shard.failedFiles;
      webhooks.send(
        shard.notificationsURL,
        filesStatusPayload({
          ingestId: shard.ingestId,
          batchId: shard.batchId,
          shardId,
          ingested: shard.error ? [] : items.map((i) => i.fileName),
          failed,
        }),
      );
    }
    // Reference ingests report ingest-status once for the whole ingest (see references.ts).
    if (shard.source === 'tar' && categories.includes('ingest-status')) {
      webhooks.send(
        shard.notificationsURL,
        ingestStatusPayload({
          ingestId: shard.ingestId,
          batchId: shard.batchId,
          success: shard.error === null,
          ...(shard.error ? { error: shard.error } : {}),
        }),
      );
    }
    if (shard.source === 'references') this.deps.references.shardIndexed(shard);
  }

  close(): void {
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
  }
}
