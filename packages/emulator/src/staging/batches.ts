/** Batch records: created on first upload, typed by the first upload, shown as `BatchMetadata`. */
import type { BatchMetadata } from '@rfbatch/shared';
import { isoTime } from '../clock.js';
import type { Deps } from '../context.js';
import { httpError } from '../http.js';
import type { BatchRecord, ItemRecord, PartRecord, ShardRecord } from '../store.js';
import { forgetExpired, missingBatchMessage } from './expiry.js';

const SEVEN_DAYS_MS = 7 * 24 * 3600 * 1000;

export type UploadKind = 'simple' | 'sharded';

/** The batch, created when absent; refuses to mix single uploads with bulk ones (§6). */
export function ensureBatch(
  deps: Deps,
  batchId: string,
  kind: UploadKind,
  content: 'images' | 'videos',
  displayName: string | null,
): BatchRecord {
  const batches = deps.store.state.batches;
  const existing = batches[batchId];
  const wanted = kind === 'simple' ? 'simple-batch' : 'sharded-batch';
  if (existing) {
    if (existing.batchType !== wanted) {
      const how =
        existing.batchType === 'multipart-batch' ? 'is a job output batch' : `is a ${existing.batchType}`;
      throw httpError(
        409,
        `batch ${JSON.stringify(batchId)} ${how}; ${kind === 'simple' ? 'single uploads' : 'bulk uploads'} cannot be added to it — use another batch id`,
      );
    }
    if (existing.contentType !== content && existing.contentType !== 'mixed') existing.contentType = 'mixed';
    return existing;
  }
  const batch = addBatch(deps, {
    batchId,
    displayName: displayName || batchId,
    batchType: wanted,
    contentType: content,
  });
  deps.store.changed();
  return batch;
}

/** Records a new, empty batch that expires in seven days (a re-used id forgets its earlier expiry). */
function addBatch(
  deps: Deps,
  fields: Pick<BatchRecord, 'batchId' | 'displayName' | 'batchType' | 'contentType'>,
): BatchRecord {
  const now = deps.clock.now();
  const batch: BatchRecord = {
    ...fields,
    createdDate: isoTime(now),
    expiryDate: isoTime(now + SEVEN_DAYS_MS),
    items: [],
    shardIds: [],
    parts: [],
  };
  deps.store.state.batches[fields.batchId] = batch;
  forgetExpired(deps, fields.batchId);
  return batch;
}

/** A multipart output batch of a job (`<job>-processing`, `<job>-export`). */
export function ensureOutputBatch(
  deps: Deps,
  batchId: string,
  displayName: string,
  part: PartRecord,
): BatchRecord {
  const batch =
    deps.store.state.batches[batchId] ??
    addBatch(deps, { batchId, displayName, batchType: 'multipart-batch', contentType: 'mixed' });
  if (!batch.parts.some((p) => p.partName === part.partName)) batch.parts.push(part);
  deps.store.changed();
  return batch;
}

export function getBatch(deps: Deps, batchId: string): BatchRecord {
  const batch = deps.store.state.batches[batchId];
  if (!batch) throw httpError(404, missingBatchMessage(deps, batchId));
  return batch;
}

export function batchMetadata(b: BatchRecord): BatchMetadata {
  return {
    displayName: b.displayName,
    batchId: b.batchId,
    batchType: b.batchType,
    batchContentType: b.contentType,
    createdDate: b.createdDate,
    expiryDate: b.expiryDate,
  };
}

/** Indexed and not failed: the shard's items count and can be listed and processed. */
export function shardVisible(s: ShardRecord, now: number): boolean {
  return s.indexAtMs !== null && s.indexAtMs <= now && s.error === null;
}

export function visibleShards(deps: Deps, batch: BatchRecord): ShardRecord[] {
  const now = deps.clock.now();
  return batch.shardIds
    .map((id) => deps.store.state.shards[id])
    .filter((s): s is ShardRecord => !!s && shardVisible(s, now));
}

export function checkPart(batch: BatchRecord, partName: string | null): void {
  if (partName === null) return;
  if (batch.batchType !== 'multipart-batch') {
    throw httpError(
      400,
      `partName given, but batch ${JSON.stringify(batch.batchId)} is a ${batch.batchType}, not a multipart-batch`,
    );
  }
  if (!batch.parts.some((p) => p.partName === partName)) {
    throw httpError(
      404,
      `part ${JSON.stringify(partName)} not found in batch ${JSON.stringify(batch.batchId)}`,
    );
  }
}

export function countItems(deps: Deps, batch: BatchRecord, partName: string | null): number {
  if (batch.batchType === 'sharded-batch')
    return visibleShards(deps, batch).reduce((n, s) => n + s.objectsCount, 0);
  return partName === null ? batch.items.length : batch.items.filter((i) => i.partName === partName).length;
}

/** Items `[offset, offset + size)` in listing order, loading only the shard files that page needs. */
export async function sliceItems(
  deps: Deps,
  batch: BatchRecord,
  partName: string | null,
  offset: number,
  size: number,
): Promise<{ items: ItemRecord[]; total: number }> {
  if (batch.batchType !== 'sharded-batch') {
    const all = partName === null ? batch.items : batch.items.filter((i) => i.partName === partName);
    return { items: all.slice(offset, offset + size), total: all.length };
  }
  const shards = visibleShards(deps, batch);
  const total = shards.reduce((n, s) => n + s.objectsCount, 0);
  const out: ItemRecord[] = [];
  let skipped = 0;
  for (const shard of shards) {
    if (out.length >= size) break;
    if (skipped + shard.objectsCount <= offset) {
      skipped += shard.objectsCount;
      continue;
    }
    const items = await deps.store.shardItemsOf(shard.shardId);
    const from = Math.max(0, offset - skipped);
    out.push(...items.slice(from, from + (size - out.length)));
    skipped += shard.objectsCount;
  }
  return { items: out, total };
}
