/** §2.1–2.3: video and tar-shard signed URLs, and the single-image multipart upload. */
import { mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { authenticate, checkBatchId } from '../auth.js';
import { nowIso } from '../clock.js';
import { signedUrlTtlS, type Deps } from '../context.js';
import { httpError, sendJson } from '../http.js';
import type { RequestContext, Router } from '../router.js';
import type { ItemRecord } from '../store.js';
import { ensureBatch } from './batches.js';
import { receiveSingleFile } from './multipart.js';
import { mimeOf } from './tar-ingest.js';

/** Largest object a signed upload URL accepts (announced in `maxFileSize` and the length-range header). */
export const MAX_UPLOAD_BYTES = 5 * 1024 ** 3;
const BASE = '/data-staging/v1/external/:workspace/batches/:batchId';

export function registerUploadRoutes(router: Router, deps: Deps): void {
  const auth = (ctx: RequestContext) => authenticate(ctx, deps.options);

  router.add('POST', `${BASE}/upload/video`, (ctx) => {
    auth(ctx);
    const batchId = checkBatchId(ctx.params.batchId);
    const fileName = requiredFileName(ctx);
    ensureBatch(deps, batchId, 'simple', 'videos', ctx.query.get('displayName'));
    sendJson(ctx.res, 200, {
      status: 'ok',
      signedURLDetails: issueUpload(deps, 'video', batchId, fileName, 'application/octet-stream'),
    });
  });

  router.add('POST', `${BASE}/bulk-upload/image-files`, (ctx) => {
    auth(ctx);
    const batchId = checkBatchId(ctx.params.batchId);
    ensureBatch(deps, batchId, 'sharded', 'images', ctx.query.get('displayName'));
    sendJson(ctx.res, 200, {
      status: 'ok',
      signedURLDetails: issueUpload(deps, 'shard', batchId, null, 'application/x-tar'),
    });
  });

  router.add('POST', `${BASE}/upload/image`, async (ctx) => {
    auth(ctx);
    const batchId = checkBatchId(ctx.params.batchId);
    const fileName = requiredFileName(ctx);
    const batch = ensureBatch(deps, batchId, 'simple', 'images', ctx.query.get('displayName'));
    const id = deps.store.nextId('i');
    const blob = join('blobs', batchId, 'simple', `${id}.bin`);
    const tmp = deps.store.abs(`${blob}.part`);
    await mkdir(deps.store.abs(join('blobs', batchId, 'simple')), { recursive: true });
    const file = await receiveSingleFile(ctx.req, tmp, fileName, deps.options.maxImageBytes);
    await rename(tmp, deps.store.abs(blob));
    const item: ItemRecord = {
      fileName,
      contentType: mimeOf(fileName),
      kind: 'image',
      sizeBytes: file.sizeBytes,
      blob,
      offset: 0,
    };
    // A retried upload of the same name replaces the earlier one (no duplicate items).
    const at = batch.items.findIndex((i) => i.fileName === fileName);
    if (at >= 0) batch.items[at] = item;
    else batch.items.push(item);
    deps.store.changed();
    sendJson(ctx.res, 200, { status: 'ok' });
  });

  router.add('POST', `${BASE}/roboql-ingest`, (ctx) => {
    auth(ctx);
    checkBatchId(ctx.params.batchId);
    throw httpError(
      501,
      'roboql-ingest is not implemented by the emulator (it needs a Roboflow asset library)',
    );
  });
}

function requiredFileName(ctx: RequestContext): string {
  const fileName = ctx.query.get('fileName');
  if (!fileName) throw httpError(400, 'missing fileName query parameter');
  if (fileName.length > 1024) throw httpError(400, `fileName is longer than 1024 characters`);
  return fileName;
}

function issueUpload(
  deps: Deps,
  kind: 'shard' | 'video',
  batchId: string,
  fileName: string | null,
  contentType: string,
) {
  const uploadId = deps.store.nextId(kind === 'shard' ? 'u' : 'v');
  deps.store.state.uploads[uploadId] = {
    uploadId,
    kind,
    batchId,
    fileName,
    createdAt: nowIso(deps.clock),
    completed: false,
  };
  deps.store.changed();
  const extensionHeaders = {
    'Content-Type': contentType,
    'X-Goog-Content-Length-Range': `0,${MAX_UPLOAD_BYTES}`,
  };
  const uploadURL = deps.signer.sign({
    method: 'PUT',
    path: `/_storage/upload/${uploadId}`,
    ttlS: signedUrlTtlS(deps),
    headers: extensionHeaders,
  });
  return { uploadURL, extensionHeaders, method: 'PUT', maxFileSize: MAX_UPLOAD_BYTES };
}
