/** §2.6–2.11: batches list, metadata, count, shards, parts and the file listing with download URLs. */
import type { FileMetadata, ShardDetails } from '@rfbatch/shared';
import { authenticate, checkBatchId } from '../auth.js';
import { isoTime } from '../clock.js';
import { signedUrlTtlS, type Deps } from '../context.js';
import { sendJson } from '../http.js';
import { encodeToken, page, pageRequest } from '../pagination.js';
import type { RequestContext, Router } from '../router.js';
import type { BatchRecord, ShardRecord } from '../store.js';
import { batchMetadata, checkPart, countItems, getBatch, sliceItems } from './batches.js';
import { objectRef } from './storage.routes.js';

const BASE = '/data-staging/v1/external/:workspace/batches';

export function registerReadRoutes(router: Router, deps: Deps): void {
  const open = (ctx: RequestContext): BatchRecord => {
    authenticate(ctx, deps.options);
    return getBatch(deps, checkBatchId(ctx.params.batchId));
  };

  router.add('GET', BASE, (ctx) => {
    authenticate(ctx, deps.options);
    const all = Object.values(deps.store.state.batches).sort(
      (a, b) => b.createdDate.localeCompare(a.createdDate) || a.batchId.localeCompare(b.batchId),
    );
    const p = page(all, pageRequest(ctx, deps.options));
    sendJson(ctx.res, 200, {
      status: 'ok',
      batches: p.items.map(batchMetadata),
      nextPageToken: p.nextPageToken,
    });
  });

  router.add('GET', `${BASE}/:batchId`, (ctx) => {
    sendJson(ctx.res, 200, { status: 'ok', batch: batchMetadata(open(ctx)) });
  });

  router.add('GET', `${BASE}/:batchId/count`, (ctx) => {
    const batch = open(ctx);
    const partName = ctx.query.get('partName');
    checkPart(batch, partName);
    sendJson(ctx.res, 200, { status: 'ok', count: countItems(deps, batch, partName) });
  });

  router.add('GET', `${BASE}/:batchId/shards`, (ctx) => {
    const batch = open(ctx);
    const shards = batch.shardIds
      .map((id) => deps.store.state.shards[id])
      .filter((s): s is ShardRecord => !!s);
    const p = page(shards, pageRequest(ctx, deps.options));
    sendJson(ctx.res, 200, {
      status: 'ok',
      shards: p.items.map((s) => shardDetails(s, deps.clock.now())),
      nextPageToken: p.nextPageToken,
    });
  });

  router.add('GET', `${BASE}/:batchId/parts`, (ctx) => {
    const batch = open(ctx);
    sendJson(ctx.res, 200, {
      status: 'ok',
      batchParts: batch.parts.map((p) => ({
        partName: p.partName,
        partType: p.partType,
        contentType: p.contentType,
        partDescription: p.partDescription,
        ...(p.nestedContentType ? { nestedContentType: p.nestedContentType } : {}),
      })),
    });
  });

  router.add('GET', `${BASE}/:batchId/list`, async (ctx) => {
    const batch = open(ctx);
    const partName = ctx.query.get('partName');
    checkPart(batch, partName);
    const req = pageRequest(ctx, deps.options);
    const { items, total } = await sliceItems(deps, batch, partName, req.offset, req.size);
    const ttlS = signedUrlTtlS(deps);
    const filesMetadata: FileMetadata[] = items.map((item) => ({
      downloadURL: deps.signer.sign({
        method: 'GET',
        path: `/_storage/object/${batch.batchId}/${objectRef(item)}`,
        ttlS,
      }),
      fileName: item.fileName,
      contentType: item.contentType,
      ...(item.partName ? { partName: item.partName } : {}),
      ...(item.shardId ? { shardId: item.shardId } : {}),
      ...(item.nestedContentType ? { nestedContentType: item.nestedContentType } : {}),
    }));
    const end = req.offset + items.length;
    sendJson(ctx.res, 200, {
      status: 'ok',
      filesMetadata,
      nextPageToken: end < total ? encodeToken(end) : null,
    });
  });
}

/** Shard status as served: `indexing` (info) until indexed, then `indexed` (success) or an error. */
function shardDetails(s: ShardRecord, now: number): ShardDetails & { isTerminal: boolean } {
  const indexed = s.indexAtMs !== null && s.indexAtMs <= now;
  const base = {
    shardId: s.shardId,
    eventTimestamp: indexed && s.indexAtMs !== null ? isoTime(s.indexAtMs) : s.createdAt,
  };
  if (s.indexAtMs === null) {
    return {
      ...base,
      statusName: 'fetching',
      statusType: 'info',
      isTerminal: false,
      shardObjectsCount: 0,
      statusMetadata: { source: s.source },
    };
  }
  if (!indexed) {
    return {
      ...base,
      statusName: 'indexing',
      statusType: 'info',
      isTerminal: false,
      shardObjectsCount: 0,
      statusMetadata: { source: s.source },
    };
  }
  if (s.error) {
    return {
      ...base,
      statusName: 'ingest-failed',
      statusType: 'error',
      isTerminal: true,
      shardObjectsCount: 0,
      statusMetadata: {
        source: s.source,
        errorType: s.error.type,
        reason: s.error.reason,
        failedFiles: s.failedFiles.slice(0, 100),
      },
    };
  }
  return {
    ...base,
    statusName: s.failedFiles.length ? 'indexed-with-failures' : 'indexed',
    statusType: s.failedFiles.length ? 'warning' : 'success',
    isTerminal: true,
    shardObjectsCount: s.objectsCount,
    statusMetadata: {
      source: s.source,
      sizeBytes: s.sizeBytes,
      failedFilesCount: s.failedFiles.length,
      failedFiles: s.failedFiles.slice(0, 100),
    },
  };
}
