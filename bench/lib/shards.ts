/**
 * The baselines' input: the same shards rfbatch would upload, packed once to `.tar` files before
 * timing starts (a baseline is handed its tars ready-made; rfbatch packs them while it uploads).
 */
import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { packShard, planRun } from '@rfbatch/ingest';
import { ManifestEntry, readJsonLines, resolveRunSpec, RunSpecSchema, runPaths } from '@rfbatch/shared';

export interface PrebuiltShards {
  tars: string[];
  bytes: number;
  images: number;
}

/** `shardMaxImages` fixes the shard size (the official client's 256); unset, rfbatch's planner chooses it. */
export async function prebuildShards(
  src: string,
  work: string,
  shardMaxImages?: number,
): Promise<PrebuiltShards> {
  const runId = 'baseline';
  const spec = resolveRunSpec(
    RunSpecSchema.parse({
      runId,
      source: { kind: 'directory', path: src },
      workflow: { workflowId: 'w' },
      output: { dir: work },
      upload: { ...(shardMaxImages === undefined ? {} : { shardMaxImages }), singleUploadMaxImages: 0 },
    }),
  );
  const plan = await planRun(spec, work);
  const tars: string[] = [];
  let bytes = 0;
  for (const unit of plan.units) {
    const members = [];
    for await (const e of readJsonLines(runPaths(work, runId).manifest, ManifestEntry, unit.range)) {
      members.push({
        name: e.name,
        path: join(plan.root!, e.source),
        source: e.source,
        size: e.size!,
        ...(e.mtimeMs ? { mtimeMs: e.mtimeMs } : {}),
      });
    }
    const file = join(work, `shard-${unit.n}.tar`);
    await pipeline(packShard(members).stream, createWriteStream(file));
    bytes += (await stat(file)).size;
    tars.push(file);
  }
  return { tars, bytes, images: plan.files };
}
