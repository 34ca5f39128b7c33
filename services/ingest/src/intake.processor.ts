import { createHash } from 'node:crypto';
import {
  claimOutputDir,
  resolveRunSpec,
  RUN_ID_RULE,
  sameJson,
  storedSpec,
  specFilePath,
  writeSpecFile,
} from '@rfbatch/shared';
import { advance, defineProcessor } from '@rfbatch/worker-kit';
import type { IngestDeps } from './deps.js';
import { workMirrorOf } from '@rfbatch/object-store';
import { intakeStaged } from './staged-intake.js';

/**
 * A run's id when its producer gave none: derived from the BullMQ job id, so a retried intake
 * finds the same run instead of starting a second one.
 */
function runIdForJob(jobId: string | undefined): string {
  const plain = (jobId ?? '').toLowerCase();
  if (RUN_ID_RULE.test(plain)) return plain;
  return `r-${createHash('sha256')
    .update(jobId ?? '')
    .digest('hex')
    .slice(0, 20)}`;
}

/**
 * Takes a submitted run (its spec was validated again on receipt: a malformed one has already failed
 * with the field errors), records it if no one has, and starts its plan. A run that is past `queued`
 * was started already: a second intake of the same run does nothing.
 */
export const intakeProcessor = defineProcessor(
  'runs',
  'intake',
  async ({ data: { spec }, job, log }, { ctx }: IngestDeps) => {
    const { store } = ctx;
    const resolved = resolveRunSpec({ ...spec, runId: spec.runId ?? runIdForJob(job.id) });
    const { runId } = resolved;
    const created = await store.create(resolved);
    // Also here, for producers that enqueue intake without submitRun: a folder in use fails the run.
    await claimOutputDir(store, resolved.output.dir, runId);
    const state = await store.require(runId);
    if (state.status !== 'queued') {
      log.info({ runId, status: state.status }, 'run already started; intake ignored');
      return { runId, started: false };
    }
    // Compared as JSON values: the stored spec comes back from Redis with its keys in another order.
    if (!created && !sameJson(storedSpec(await store.spec(runId)), storedSpec(resolved))) {
      log.warn({ runId }, 'a run with this id exists with another spec; the stored spec is kept');
    }
    // The work dir's copy of the spec: what `rfbatch recover` rebuilds the run from if Redis loses it.
    await writeSpecFile(ctx.config.workDir, await store.spec(runId));
    await workMirrorOf(ctx.config)?.push(specFilePath(ctx.config.workDir, runId));
    await store.linkRemote('batch', (await store.spec(runId)).batchId, runId);
    if (resolved.source.kind === 'staged') {
      await intakeStaged(ctx, await store.spec(runId), state.attempt);
      log.info({ runId, mode: resolved.mode ?? 'staged-batch' }, 'run accepted on what the API holds');
      return { runId, started: true };
    }
    await advance(ctx, runId, state.attempt, { to: { queue: 'ingest', name: 'plan' }, status: 'planning' });
    log.info({ runId }, 'run accepted; planning');
    return { runId, started: true };
  },
);
