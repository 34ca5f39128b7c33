/**
 * The "cloud store" behind signed URLs: `PUT /_storage/upload/<id>` (tar shards, videos) and
 * `GET /_storage/object/<batch>/<ref>` (downloads). Refusals look like a cloud store's: XML bodies,
 * 403 for a bad signature, missing signed header or expired URL, 400/411 for length problems.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { nowIso } from '../clock.js';
import type { Deps } from '../context.js';
import { sendStorageError } from '../http.js';
import type { RequestContext, Router } from '../router.js';
import type { ItemRecord, ShardRecord } from '../store.js';
import { throttle } from '../throttle.js';
import { MAX_UPLOAD_BYTES } from './upload.routes.js';
import { createTarIngest } from './tar-ingest.js';

export function registerStorageRoutes(router: Router, deps: Deps): void {
  router.add('PUT', '/_storage/upload/:uploadId', async (ctx) => {
    if (!verified(deps, ctx, 'PUT')) return;
    const upload = deps.store.state.uploads[ctx.params.uploadId ?? ''];
    if (!upload) return sendStorageError(ctx.res, 404, 'NoSuchUpload', 'unknown upload');
    if (ctx.req.headers['transfer-encoding'] || ctx.req.headers['content-length'] === undefined) {
      return sendStorageError(ctx.res, 411, 'MissingContentLength', 'a Content-Length header is required');
    }
    const length = Number(ctx.req.headers['content-length']);
    if (length > MAX_UPLOAD_BYTES)
      return sendStorageError(ctx.res, 400, 'EntityTooLarge', `more than ${MAX_UPLOAD_BYTES} bytes`);

    if (upload.kind === 'video') {
      const blob = join('blobs', upload.batchId, 'videos', `${upload.uploadId}.bin`);
      await mkdir(deps.store.abs(join('blobs', upload.batchId, 'videos')), { recursive: true });
      const received = await receive(deps, ctx, createWriteStream(deps.store.abs(blob)), length);
      if (!received) return rm(deps.store.abs(blob), { force: true });
      const batch = deps.store.state.batches[upload.batchId];
      const fileName = upload.fileName ?? upload.uploadId;
      if (batch) {
        const item: ItemRecord = {
          fileName,
          contentType: 'video/mp4',
          kind: 'video',
          sizeBytes: length,
          blob,
          offset: 0,
        };
        const at = batch.items.findIndex((i) => i.fileName === fileName);
        if (at >= 0) batch.items[at] = item;
        else batch.items.push(item);
      }
      upload.completed = true;
      deps.store.changed();
      return ok(ctx, deps);
    }

    // A tar shard: one shard per upload URL; a repeated PUT replaces the shard's content.
    const shardId = `shard-${upload.uploadId.slice(2)}`;
    const blob = join('blobs', upload.batchId, `${shardId}.bin`);
    await mkdir(deps.store.abs(join('blobs', upload.batchId)), { recursive: true });
    const ingest = createTarIngest({ blobAbs: deps.store.abs(blob), blobRel: blob, shardId });
    const received = await receive(deps, ctx, ingest.sink, length);
    const result = await ingest.result;
    if (!received) return rm(deps.store.abs(blob), { force: true });
    const injected = deps.faults.shardFails();
    const error = result.parseError
      ? { type: 'invalid-archive', reason: `the shard is not a readable tar archive: ${result.parseError}` }
      : injected
        ? { type: 'shard-processing-error', reason: 'the shard could not be indexed (injected fault)' }
        : null;
    const shard: ShardRecord = {
      shardId,
      batchId: upload.batchId,
      source: 'tar',
      createdAt: nowIso(deps.clock),
      indexAtMs: deps.clock.now() + deps.options.indexingDelayMs + deps.faults.get().slowIndexingMs,
      objectsCount: result.items.length,
      sizeBytes: result.sizeBytes,
      failedFiles: result.failed,
      error,
      ingestId: result.notificationConfig?.ingestId ?? null,
      notificationsURL: result.notificationConfig?.notificationsURL ?? null,
      categories: [],
      notified: false,
    };
    await deps.store.saveShardItems(shardId, result.items);
    deps.store.state.shards[shardId] = shard;
    const batch = deps.store.state.batches[upload.batchId];
    if (batch && !batch.shardIds.includes(shardId)) batch.shardIds.push(shardId);
    upload.completed = true;
    deps.store.changed();
    deps.indexer.schedule(shard);
    deps.logger.debug(
      {
        shardId,
        batchId: upload.batchId,
        images: result.items.length,
        failed: result.failed.length,
        bytes: length,
      },
      'shard received',
    );
    return ok(ctx, deps);
  });

  router.add('GET', '/_storage/object/:batchId/:ref', async (ctx) => {
    if (!verified(deps, ctx, 'GET')) return;
    const item = await resolveObject(deps, ctx.params.batchId ?? '', ctx.params.ref ?? '');
    if (!item) return sendStorageError(ctx.res, 404, 'NoSuchKey', 'the object does not exist');
    let start = 0;
    let end = item.sizeBytes - 1;
    let status = 200;
    const range = /^bytes=(\d+)-(\d*)$/.exec(String(ctx.req.headers.range ?? ''));
    if (range) {
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]), end) : end;
      if (start > end || start >= item.sizeBytes) {
        ctx.res.writeHead(416, { 'content-range': `bytes */${item.sizeBytes}` });
        return void ctx.res.end();
      }
      status = 206;
    }
    const length = end - start + 1;
    ctx.res.writeHead(status, {
      'content-type': item.contentType,
      'content-length': String(length),
      'accept-ranges': 'bytes',
      ...(status === 206 ? { 'content-range': `bytes ${start}-${end}/${item.sizeBytes}` } : {}),
    });
    if (length === 0) return void ctx.res.end();
    const source = createReadStream(deps.store.abs(item.blob), {
      start: item.offset + start,
      end: item.offset + end,
    });
    if (ctx.resetMidResponse) {
      // Send about half of the body, then drop the connection (a reset mid-download).
      let sent = 0;
      source.on('data', (chunk: Buffer | string) => {
        sent += chunk.length;
        if (sent >= length / 2) {
          source.destroy();
          ctx.res.socket?.destroy();
        }
      });
    }
    const stages: (Readable | Writable)[] = [source];
    if (deps.options.throttleBytesPerSecond)
      stages.push(throttle(deps.options.throttleBytesPerSecond, deps.clock));
    await pipeline([...stages, ctx.res] as unknown as [Readable, Writable]).catch(() => ctx.res.destroy());
  });
}

function verified(deps: Deps, ctx: RequestContext, method: 'PUT' | 'GET'): boolean {
  const result = deps.signer.verify(method, ctx.url, ctx.req.headers);
  if (result.ok) return true;
  sendStorageError(ctx.res, result.status, result.code, result.message);
  return false;
}

/**
 * Pipes the request body (throttled when configured) into `sink`. True when exactly `length` bytes
 * arrived and the connection is still there to answer; false for an aborted or refused upload.
 */
async function receive(deps: Deps, ctx: RequestContext, sink: Writable, length: number): Promise<boolean> {
  let bytes = 0;
  // A client that half-closes before sending Content-Length bytes will never finish: drop it.
  const socket = ctx.req.socket;
  const onEnd = () => {
    if (!ctx.req.complete) socket.destroy();
  };
  socket.once('end', onEnd);
  ctx.req.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
  });
  const stages: (Readable | Writable)[] = [ctx.req];
  if (deps.options.throttleBytesPerSecond)
    stages.push(throttle(deps.options.throttleBytesPerSecond, deps.clock));
  stages.push(sink);
  try {
    await pipeline(stages as unknown as [Readable, Writable]);
  } catch {
    return false;
  } finally {
    socket.off('end', onEnd);
  }
  // Let the HTTP parser see bytes past Content-Length: it refuses them (400) and closes the socket.
  await new Promise((r) => setImmediate(r));
  if (bytes !== length || ctx.res.socket?.destroyed !== false) {
    if (!ctx.res.headersSent && ctx.res.socket && !ctx.res.socket.destroyed) {
      sendStorageError(ctx.res, 400, 'IncompleteBody', `received ${bytes} of ${length} bytes`);
    }
    return false;
  }
  return true;
}

function ok(ctx: RequestContext, deps: Deps): void {
  ctx.res.writeHead(200, { 'content-length': '0', etag: `"${deps.clock.now().toString(16)}"` });
  ctx.res.end();
}

/** `ref` is base64url JSON `[shardId | null, partName | null, fileName]`. */
export function objectRef(item: ItemRecord): string {
  return Buffer.from(JSON.stringify([item.shardId ?? null, item.partName ?? null, item.fileName])).toString(
    'base64url',
  );
}

async function resolveObject(deps: Deps, batchId: string, ref: string): Promise<ItemRecord | undefined> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(ref, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== 3) return undefined;
  const [shardId, partName, fileName] = parsed as [string | null, string | null, string];
  const batch = deps.store.state.batches[batchId];
  if (!batch) return undefined;
  if (shardId) {
    if (!batch.shardIds.includes(shardId)) return undefined;
    return (await deps.store.shardItemsOf(shardId)).find((i) => i.fileName === fileName);
  }
  return batch.items.find((i) => i.fileName === fileName && (i.partName ?? null) === partName);
}
