/**
 * Expiry (roboflow-api.md §6): staged inputs and job outputs are deleted at their `expiryDate`, 7 days
 * after creation. A sweeper deletes due batches every second; the control endpoint can move a batch's
 * expiry (to rehearse "expires in 3 h") or expire it at once. A deleted batch answers 404 saying it
 * expired, its id can be used again (a fresh batch), and a job that still needs its items fails with
 * an `input-error` log.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isoTime, nowIso, type Timer } from '../clock.js';
import type { Deps } from '../context.js';
import { httpError } from '../http.js';

const SWEEP_EVERY_MS = 1_000;

/** Deletes a batch and its bytes. Returns false when there was no such batch. */
export async function deleteBatch(
  deps: Deps,
  batchId: string,
  expiredAt = nowIso(deps.clock),
): Promise<boolean> {
  const { store } = deps;
  const batch = store.state.batches[batchId];
  if (!batch) return false;
  delete store.state.batches[batchId];
  (store.state.expired ??= {})[batchId] = expiredAt;
  const blobs = new Set(batch.items.map((i) => i.blob));
  for (const shardId of batch.shardIds) {
    delete store.state.shards[shardId];
    await store.forgetShard(shardId);
  }
  store.changed();
  // Staged inputs live under blobs/<batch>/; job outputs are files of their own.
  await rm(store.abs(join('blobs', batchId)), { recursive: true, force: true });
  for (const blob of blobs) if (!blob.startsWith('blobs/')) await rm(store.abs(blob), { force: true });
  deps.logger.debug(
    { batchId, items: blobs.size, shards: batch.shardIds.length },
    'batch expired and deleted',
  );
  return true;
}

/** Moves a batch's expiry; a date in the past deletes it at once. */
export async function setBatchExpiry(deps: Deps, batchId: string, expiryMs: number): Promise<string | null> {
  const batch = deps.store.state.batches[batchId];
  if (!batch) throw httpError(404, `batch ${JSON.stringify(batchId)} not found`);
  const at = isoTime(expiryMs);
  if (expiryMs <= deps.clock.now()) {
    await deleteBatch(deps, batchId, at);
    return null;
  }
  batch.expiryDate = at;
  deps.store.changed();
  return at;
}

/** The 404 for a batch id: "expired" when it was deleted at its expiry. */
export function missingBatchMessage(deps: Deps, batchId: string): string {
  const expiredAt = deps.store.state.expired?.[batchId];
  return expiredAt
    ? `batch ${JSON.stringify(batchId)} expired on ${expiredAt} and its data was deleted (staged data is kept 7 days)`
    : `batch ${JSON.stringify(batchId)} not found`;
}

/** A new batch under an id that had expired: the tombstone goes. */
export function forgetExpired(deps: Deps, batchId: string): void {
  if (deps.store.state.expired?.[batchId] !== undefined) delete deps.store.state.expired[batchId];
}

export class ExpirySweeper {
  private timer: Timer | undefined;
  private sweeping: Promise<void> = Promise.resolve();

  constructor(private readonly deps: Deps) {}

  start(): void {
    this.timer = this.deps.clock.setInterval(() => {
      this.sweeping = this.sweeping
        .then(async () => void (await this.sweep()))
        .catch((err: unknown) => this.deps.logger.error({ err }, 'expiry sweep failed'));
    }, SWEEP_EVERY_MS);
  }

  /** Deletes every batch whose expiry has passed. */
  async sweep(now = this.deps.clock.now()): Promise<string[]> {
    const due = Object.values(this.deps.store.state.batches).filter((b) => Date.parse(b.expiryDate) <= now);
    for (const b of due) await deleteBatch(this.deps, b.batchId, b.expiryDate);
    return due.map((b) => b.batchId);
  }

  async close(): Promise<void> {
    this.timer?.cancel();
    await this.sweeping;
  }
}
