import { displayNameOpts, MetricName } from '@rfbatch/shared';
import { doneKey } from './children.js';
import { defineProcessor } from '@rfbatch/worker-kit';
import type { IngestDeps } from './deps.js';
import { ByteProgress } from './progress.js';
import { packShard, type TarMember } from './shard-pack.js';
import { storeOfRoot } from './bucket-source.js';
import { readUnit, requirePlan, sourceFile } from './unit.js';
import { withFreshUrl } from './upload-retry.js';
import { notificationConfig, NOTIFICATION_CONFIG_NAME } from './webhook.js';

/**
 * Packs the shard's manifest lines into one tar and streams it to a fresh signed URL. The tar's size
 * is computed first; files go from disk into the PUT body one after another. A finished shard is
 * checkpointed, so a retry or a resumed run skips it.
 */
export const shardProcessor = defineProcessor(
  'ingest',
  'shard',
  async (
    { data: { runId, shard, range }, job, log, signal, spec },
    { ctx, options, upload, uploadSlot }: IngestDeps,
  ) => {
    const { store, client, config } = ctx;
    if (await store.isDone(runId, doneKey.shard(shard))) return { shard, skipped: 'already uploaded' };

    const plan = await requirePlan(config, runId);
    const entries = await readUnit(config, runId, range);
    // Stream mode of a bucket source: each member is a GET of its object, checked against its listed size.
    const bucket = spec.source.kind === 'bucket' ? storeOfRoot(plan.root ?? spec.source.url) : undefined;
    const members: TarMember[] = entries.map((e) => ({
      name: e.name,
      source: e.source,
      size: e.size ?? 0,
      ...(e.mtimeMs !== undefined ? { mtimeMs: e.mtimeMs } : {}),
      ...(bucket ? { open: () => bucket.get(e.source) } : { path: sourceFile(plan, spec, e) }),
    }));
    const notification = notificationConfig(config, spec);
    if (notification) members.unshift({ name: NOTIFICATION_CONFIG_NAME, data: notification });
    const fileBytes = entries.reduce((sum, e) => sum + (e.size ?? 0), 0);
    const progress = new ByteProgress(store, runId, job, fileBytes);
    log.debug({ shard, files: entries.length, bytes: fileBytes }, 'uploading shard');

    const tarBytes = await withFreshUrl(
      options.uploadTries,
      log,
      `shard ${shard}`,
      // Each try holds a shared upload slot (when a cap is set) only while it requests its URL and sends.
      () =>
        uploadSlot(async () => {
          // A fresh URL per try: an expired or half-used one is never reused.
          const details = await client.requestShardUploadUrl(spec.batchId, displayNameOpts(spec));
          const packed = packShard(members, (n) => progress.add(n));
          let packError: unknown;
          packed.stream.once('error', (error) => (packError = error));
          try {
            await upload(details, packed.stream, packed.size, signal ? { signal: signal } : {});
          } catch (error) {
            packed.stream.destroy();
            await progress.rollback();
            // The tar's own failure (a file changed) says more than the aborted PUT it caused.
            throw packError ?? error;
          }
          return packed.size;
        }, signal),
      signal,
    );

    await store.markDone(runId, doneKey.shard(shard));
    await progress.commit(fileBytes);
    ctx.metrics?.inc(MetricName.bytesUploaded, {}, tarBytes);
    await store.incr(runId, 'shardsUploaded');
    await store.incr(runId, 'filesUploaded', entries.length);
    return { shard, files: entries.length, tarBytes };
  },
  { skip: 'ended', unit: ({ shard }) => `shard ${shard}` },
);
