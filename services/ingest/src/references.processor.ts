import { deriveIngestId, type ImageReferencesRequest, type Reference } from '@rfbatch/shared';
import { doneKey } from './children.js';
import { defineProcessor } from '@rfbatch/worker-kit';
import type { IngestDeps } from './deps.js';
import { presignReferences, storeOfRoot } from './bucket-source.js';
import { readUnit, requirePlan } from './unit.js';
import { ConnectionBudget, displayNameOpts, webhookUrl } from '@rfbatch/shared';

/**
 * Reference chunks one process works on at once: each holds up to 20,000 manifest entries (5,000 for a
 * bucket), as many presigned URLs and their JSON body; unbounded, a run of 100,000 objects had every
 * chunk taken at once by the ingest slots and held every URL of the run at the same time. Two keep one request in flight while the
 * next is presigned.
 */
const CHUNKS_AT_ONCE = new ConnectionBudget(2);

/**
 * Sends one chunk (≤20,000 images, ≤5,000 videos or bucket objects) of a references source as one ingest request. Its
 * ingestId is derived from the run and the chunk, so a retry after a lost answer is recognised by the
 * API as a duplicate. The urls (credentials) go only into the request body, never into the result.
 */
export const referencesProcessor = defineProcessor(
  'ingest',
  'references',
  async ({ data: { runId, chunk, range }, log, spec }, { ctx }: IngestDeps) => {
    const { store, client, config } = ctx;
    if (await store.isDone(runId, doneKey.chunk(chunk))) return { chunk, skipped: 'already ingested' };
    await CHUNKS_AT_ONCE.acquire();
    try {
      return await sendChunk();
    } finally {
      CHUNKS_AT_ONCE.release();
    }
    async function sendChunk() {
      const plan = await requirePlan(config, runId);
      const entries = await readUnit(config, runId, range);
      let references: Reference[];
      if (spec.source.kind === 'bucket') {
        // Presigned now, at send time: a retry (even days later) sends fresh URLs, never dead ones.
        const signed = await presignReferences(
          storeOfRoot(plan.root ?? spec.source.url),
          entries,
          spec.source.presignSeconds,
        );
        references = signed.references;
        await store.noteReferencesExpiry(runId, new Date(signed.expiresAt));
      } else {
        references = entries.map((e) => ({ name: e.name, url: e.url ?? '' }));
      }
      // The user's own webhook and categories (RunSpec `notifications`) when given, else the gateway's.
      const own = spec.notifications;
      const notify = own?.url ?? webhookUrl(config);
      const categories = own ? own.categories : (['ingest-status'] as const);
      const common = {
        ingestId: deriveIngestId(runId, chunk, spec.ingestId),
        ...(notify ? { notificationsURL: notify } : {}),
        ...(notify && categories ? { notificationCategories: [...categories] } : {}),
      };
      const naming = displayNameOpts(spec);
      const response =
        plan.kind === 'image'
          ? await client.ingestImageReferences(
              spec.batchId,
              { imageReferences: references, ...common } satisfies ImageReferencesRequest,
              naming,
            )
          : await client.ingestVideoReferences(
              spec.batchId,
              { videoReferences: references, ...common },
              naming,
            );
      log.info(
        { chunk, references: references.length, duplicated: response.duplicated ?? false },
        'references ingested',
      );
      await store.markDone(runId, doneKey.chunk(chunk));
      await store.incr(runId, 'filesUploaded', references.length);
      return {
        chunk,
        references: references.length,
        ingestId: response.ingestId,
        duplicated: response.duplicated ?? false,
      };
    }
  },
  { skip: 'ended', unit: ({ chunk }) => `references chunk ${chunk}` },
);
