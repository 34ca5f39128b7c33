import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import {
  displayNameOpts,
  eachLimited,
  ErrorCode,
  FILE_REFUSAL_STATUSES,
  MetricName,
  RfbatchError,
  runPaths,
  writeRefused,
  type Logger,
  type ManifestEntry,
} from '@rfbatch/shared';
import { doneKey } from './children.js';
import { defineProcessor } from '@rfbatch/worker-kit';
import type { IngestDeps } from './deps.js';
import { ByteProgress } from './progress.js';
import { workMirrorOf, type ObjectStore } from '@rfbatch/object-store';
import { storeOfRoot } from './bucket-source.js';
import { readUnit, requirePlan, sourceFile } from './unit.js';
import { withFreshUrl } from './upload-retry.js';

/**
 * Uploads a group of manifest lines one file per request: images as multipart single uploads,
 * videos through a signed URL each. A few files go at once; each streams from disk and is
 * checkpointed when done, so a retry uploads only the rest.
 */
export const filesProcessor = defineProcessor(
  'ingest',
  'files',
  async ({ data: { runId, group, range }, job, log, signal, spec }, deps: IngestDeps) => {
    const { store, config } = deps.ctx;
    if (await store.isDone(runId, doneKey.group(group))) return { group, skipped: 'already uploaded' };
    const plan = await requirePlan(config, runId);
    const entries = await readUnit(config, runId, range);
    const done = await Promise.all(entries.map((e) => store.isDone(runId, doneKey.file(e.i))));
    const todo = entries.filter((_, k) => !done[k]);
    const concurrency = deps.options.filesConcurrency ?? (plan.kind === 'video' ? 2 : 8);
    let uploaded = 0;
    let refused = 0;
    const naming = displayNameOpts(spec);

    // Stream mode of a bucket source (videos): each file is a GET of its object.
    const bucket = spec.source.kind === 'bucket' ? storeOfRoot(plan.root ?? spec.source.url) : undefined;
    await eachLimited(todo, concurrency, async (entry) => {
      const from: UploadSource = bucket
        ? { store: bucket, key: entry.source }
        : { path: sourceFile(plan, spec, entry) };
      const outcome = await uploadOne(runId, entry, from, spec.batchId, { log, signal, naming }, deps).then(
        () => 'uploaded' as const,
        async (error: unknown) => {
          // The API refused this one file (too large, not an image it takes): the others go on.
          if (!isFileRefusal(error)) throw nameTheFile(error, entry);
          await refuse(deps, runId, entry, error);
          return 'refused' as const;
        },
      );
      await store.markDone(runId, doneKey.file(entry.i));
      if (outcome === 'refused') {
        refused++;
        return;
      }
      await store.incr(runId, 'filesUploaded');
      uploaded++;
      await job
        .updateProgress({ files: entries.length - todo.length + uploaded, totalFiles: entries.length })
        .catch(() => {});
    });
    await store.markDone(runId, doneKey.group(group));
    return { group, files: entries.length, uploaded, refused };
  },
  { skip: 'ended', unit: ({ group }) => `upload group ${group}` },
);

/** Where one file's bytes are: a file under the source folder, or an object of the source bucket. */
type UploadSource = { path: string | Buffer } | { store: ObjectStore; key: string };

/** The item's current size (to compare with the planned one), or an error saying it cannot be read. */
async function currentSize(from: UploadSource): Promise<number> {
  const unreadable = (error: unknown) =>
    new RfbatchError(
      ErrorCode.upload,
      `cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      {
        hint: 'it disappeared or became unreadable after planning; restore it or start a new run',
        retryable: error instanceof RfbatchError && error.retryable,
      },
    );
  if ('path' in from)
    return (
      await stat(from.path).catch((error: unknown) => {
        throw unreadable(error);
      })
    ).size;
  const head = await from.store.head(from.key).catch((error: unknown) => {
    throw unreadable(error);
  });
  if (!head) throw unreadable(new Error('the object no longer exists'));
  return head.size;
}

/** What one file's upload needs of its job. */
interface UploadJob {
  log: Logger;
  signal: AbortSignal | undefined;
  /** The `displayName` of every upload call (the run's batchName). */
  naming: { displayName?: string };
}

async function uploadOne(
  runId: string,
  entry: ManifestEntry,
  from: UploadSource,
  batchId: string,
  jc: UploadJob,
  deps: IngestDeps,
): Promise<void> {
  const { client, store, metrics } = deps.ctx;
  const size = entry.size ?? 0;
  const now = await currentSize(from);
  if (now !== size) {
    throw new RfbatchError(
      ErrorCode.upload,
      `it changed size since planning (planned ${size} bytes, now ${now})`,
      {
        hint: 'make sure nothing changes the source (folder or bucket) during a run, then start a new run',
      },
    );
  }
  if (entry.kind === 'image') {
    // Bucket images always go as tar shards (stream mode) or references: only files come here.
    if (!('path' in from))
      throw new Error(`internal: single image upload of bucket object "${entry.source}"`);
    const path = from.path;
    // The client retries transient failures itself, re-reading the file each time.
    await deps.uploadSlot(
      () =>
        client.uploadImage(batchId, entry.name, { stream: () => createReadStream(path), size }, jc.naming),
      jc.signal,
    );
    await store.incr(runId, 'bytesUploaded', size);
    metrics?.inc(MetricName.bytesUploaded, {}, size);
    return;
  }
  const progress = new ByteProgress(store, runId, undefined, size);
  await withFreshUrl(
    deps.options.uploadTries,
    jc.log,
    `video ${entry.i}`,
    () =>
      deps.uploadSlot(async () => {
        const details = await client.requestVideoUploadUrl(batchId, entry.name, jc.naming);
        const body =
          'path' in from
            ? createReadStream(from.path, { start: 0, end: Math.max(0, size - 1) })
            : await from.store.get(from.key);
        try {
          await deps.upload(details, body, size, {
            onProgress: (n) => progress.add(n),
            ...(jc.signal ? { signal: jc.signal } : {}),
          });
        } catch (error) {
          body.destroy();
          await progress.rollback();
          throw error;
        }
      }, jc.signal),
    jc.signal,
  );
  await progress.commit(size);
  metrics?.inc(MetricName.bytesUploaded, {}, size);
}

function isFileRefusal(error: unknown): error is RfbatchError {
  return (
    error instanceof RfbatchError &&
    !error.retryable &&
    error.status !== undefined &&
    FILE_REFUSAL_STATUSES.includes(error.status)
  );
}

/** Records a refused file (its `failed` result line) and says so in the run's warnings. */
async function refuse(deps: IngestDeps, runId: string, entry: ManifestEntry, error: RfbatchError) {
  const { store, config } = deps.ctx;
  const reason = `the API refused the upload (HTTP ${error.status}): ${error.message}`;
  const written = await writeRefused(runPaths(config.workDir, runId), {
    i: entry.i,
    source: entry.source,
    ...(entry.sourceBytes === undefined ? {} : { sourceBytes: entry.sourceBytes }),
    status: error.status ?? 0,
    reason,
  });
  await workMirrorOf(config)?.push(written);
  const warning = `"${entry.source}" was not uploaded: ${reason}; it is "failed" in results.jsonl`;
  if (!(await store.require(runId)).warnings.includes(warning)) await store.warn(runId, warning);
}

/** The error of one file, with the file's source path in front: `"a/b.mp4": it changed size ...`. */
function nameTheFile(error: unknown, entry: ManifestEntry): Error {
  if (error instanceof RfbatchError) {
    return new RfbatchError(error.code, `"${entry.source}": ${error.message}`, {
      retryable: error.retryable,
      ...(error.status !== undefined ? { status: error.status } : {}),
      ...(error.hint ? { hint: error.hint } : {}),
      cause: error,
    });
  }
  const wrapped = new Error(`"${entry.source}": ${error instanceof Error ? error.message : String(error)}`, {
    cause: error,
  });
  return wrapped;
}
