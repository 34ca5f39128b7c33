import { deriveIngestId, type ImageReferencesRequest, type Reference } from '@rfbatch/shared';
import { doneKey } from './children.js';
import { defineProcessor } from '@rfbatch/worker-kit';
import type { IngestDeps } from './deps.js';
import { readUnit, requirePlan } from './unit.js';
import { webhookUrl } from '@rfbatch/shared';

/**
 * Sends one chunk (≤20,000 images, ≤5,000 videos) of a references source as one ingest request. Its
 * ingestId is derived from the run and the chunk, so a retry after a lost answer is recognised by the
 * API as a duplicate. The urls (credentials) go only into the request body, never into the result.
 */
export const referencesProcessor = defineProcessor(
  'ingest',
  'references',
  async ({ data: { runId, chunk, range }, log, spec }, { ctx }: IngestDeps) => {
    const { store, client, config } = ctx;
    if (await store.isDone(runId, doneKey.chunk(chunk))) return { chunk, skipped: 'already ingested' };
    const plan = await requirePlan(config.workDir, runId);
    const entries = await readUnit(config.workDir, runId, range);
    const references: Reference[] = entries.map((e) => ({ name: e.name, url: e.url ?? '' }));
    const notify = webhookUrl(config);
    const common = {
      ingestId: deriveIngestId(runId, chunk),
      ...(notify ? { notificationsURL: notify, notificationCategories: ['ingest-status' as const] } : {}),
    };
    const response =
      plan.kind === 'image'
        ? await client.ingestImageReferences(spec.batchId, {
            imageReferences: references,
            ...common,
          } satisfies ImageReferencesRequest)
        : await client.ingestVideoReferences(spec.batchId, { videoReferences: references, ...common });
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
  },
  { skip: 'ended', unit: ({ chunk }) => `references chunk ${chunk}` },
);
