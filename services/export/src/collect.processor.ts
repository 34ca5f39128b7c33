import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { WaitingChildrenError } from 'bullmq';
import {
  ErrorCode,
  jobSchema,
  RfbatchError,
  stageJobId,
  type FileMetadata,
  type JobStageDetails,
  type RoboflowClient,
  writeFileAtomic,
} from '@rfbatch/shared';
import { advance, defineProcessor } from '@rfbatch/worker-kit';
import type { ExportDeps } from './deps.js';
import {
  exportPaths,
  isArchiveName,
  lineGroups,
  LocalNames,
  localNameOf,
  type DownloadEntry,
} from './downloads.js';
import type { Listings } from './listings.js';
import { workMirrorOf } from '@rfbatch/object-store';
import { warnIfExpiring } from '@rfbatch/run-control';

const ADD_BULK_CHUNK = 500;

/** The stage whose output batches hold the results: `export` (archives), else `processing` (raw files). */
function pickOutputStage(stages: JobStageDetails[]): JobStageDetails | undefined {
  const withOutput = stages.filter((s) => s.outputBatches.length > 0);
  return (
    withOutput.find((s) => s.processingStageName === 'export') ??
    withOutput.find((s) => s.processingStageName === 'processing')
  );
}

/** Every file of an output batch: part by part for a multipart batch, else the whole batch. */
async function* listOutputBatch(
  client: RoboflowClient,
  batchId: string,
  batchType: string,
  listings: Listings,
): AsyncGenerator<{ file: FileMetadata; partName: string | null }> {
  const parts =
    batchType === 'multipart-batch' ? (await client.listParts(batchId)).map((p) => p.partName) : [null];
  for (const partName of parts) {
    const files: FileMetadata[] = [];
    for await (const file of client.listFiles(batchId, partName ? { partName } : {})) {
      files.push(file);
      yield { file, partName: partName ?? file.partName ?? null };
    }
    listings.remember(batchId, partName, files);
  }
}

/**
 * collect: finds the job's output batch (the `export` stage's, else the `processing` stage's), lists
 * every part to the end, writes the run's downloads file (no signed URLs in it), adds the download
 * jobs as children (many files each), waits for them without holding a worker slot, then hands the
 * run to finalize. Each step is recorded in the job's data, so a retry continues where it stopped.
 */
export const collectProcessor = defineProcessor(
  'export',
  'collect',
  async ({ data, state, job, token, spec, log, saveState }, { ctx, options: opts, listings }: ExportDeps) => {
    const { runId, attempt } = data;
    const paths = exportPaths(ctx.config.workDir, runId, spec.output.dir, spec.output.extract);
    // Where this job is (kept in its data): listing, adding download children, or waiting for them.
    let step = state.step ?? 'list';

    if (step === 'list') {
      await ctx.store.setStatus(runId, 'exporting');
      await ctx.store.stageStarted(runId, 'collect');
      const stages = await ctx.client.listStages(spec.jobId);
      const stage = pickOutputStage(stages);
      if (!stage) {
        throw new RfbatchError(
          ErrorCode.run,
          `job "${spec.jobId}" finished, but none of its stages (${stages.map((s) => s.processingStageName).join(', ') || 'none'}) lists an output batch`,
          {
            hint: `look at \`rfbatch jobs stages ${spec.jobId}\`; \`rfbatch retry ${runId}\` lists them again`,
          },
        );
      }
      const names = new LocalNames();
      const lines: string[] = [];
      let expiresAt: string | undefined;
      for (const batchId of stage.outputBatches) {
        const batch = await ctx.client.getBatch(batchId);
        if (!expiresAt || batch.expiryDate < expiresAt) expiresAt = batch.expiryDate;
        for await (const { file, partName } of listOutputBatch(
          ctx.client,
          batchId,
          batch.batchType,
          listings,
        )) {
          const i = lines.length;
          const entry: DownloadEntry = {
            i,
            batchId,
            partName,
            fileName: file.fileName,
            shardId: file.shardId ?? null,
            contentType: file.contentType,
            local: names.claim(localNameOf({ fileName: file.fileName, partName }, i), i),
            archive: isArchiveName(file.fileName),
          };
          lines.push(JSON.stringify(entry));
        }
      }
      await mkdir(dirname(paths.downloads), { recursive: true });
      await writeFileAtomic(paths.downloads, lines.map((l) => `${l}\n`).join(''));
      await workMirrorOf(ctx.config)?.push(paths.downloads);
      if (expiresAt) await ctx.store.setFields(runId, { outputExpiresAt: expiresAt });
      await warnIfExpiring(ctx, await ctx.store.require(runId));
      await ctx.store.setCounters(runId, { downloadsTotal: lines.length });
      log.info(
        { stage: stage.processingStageName, batches: stage.outputBatches.length, files: lines.length },
        'outputs listed',
      );
      step = 'children';
      await saveState({ step });
    }

    if (step === 'children') {
      await workMirrorOf(ctx.config)?.refresh(paths.downloads);
      const groups = lineGroups(await readFile(paths.downloads), opts.filesPerJob);
      const parent = { id: job.id as string, queue: job.queueQualifiedName };
      const schema = jobSchema('export', 'download');
      const children = groups.map((range, group) => ({
        name: 'download',
        data: schema.parse({ runId, attempt, group, range }),
        opts: { jobId: stageJobId('download', runId, attempt, group), parent, failParentOnFailure: true },
      }));
      for (let i = 0; i < children.length; i += ADD_BULK_CHUNK) {
        await ctx.queues.export.addBulk(children.slice(i, i + ADD_BULK_CHUNK));
      }
      await ctx.store.stageEnded(runId, 'collect');
      log.info({ jobs: children.length }, 'download jobs added');
      step = 'wait';
      await saveState({ step });
    }

    if (await job.moveToWaitingChildren(token ?? '')) throw new WaitingChildrenError();
    await advance(ctx, runId, attempt, { from: 'download', to: { queue: 'export', name: 'finalize' } });
    log.info('downloads finished');
    return { done: true };
  },
);
