import { createHash } from 'node:crypto';
import { enqueue, resolveRunSpec, RUN_ID_RULE, sameJson, stageJobId } from '@rfbatch/shared';
import type { Processor } from './processor.js';

/**
 * A run's id when its producer gave none: derived from the BullMQ job id, so a retried intake
 * finds the same run instead of starting a second one.
 */
export function runIdForJob(jobId: string | undefined): string {
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
export const intakeProcessor: Processor<'runs', 'intake'> = async ({ spec }, jc, { ctx }) => {
  const { store, queues } = ctx;
  const resolved = resolveRunSpec({ ...spec, runId: spec.runId ?? runIdForJob(jc.job.id) });
  const { runId } = resolved;
  const created = await store.create(resolved);
  const state = await store.require(runId);
  if (state.status !== 'queued') {
    jc.log.info({ runId, status: state.status }, 'run already started; intake ignored');
    return { runId, started: false };
  }
  // Compared as JSON values: the stored spec comes back from Redis with its keys in another order.
  if (!created && !sameJson(await store.spec(runId), resolved)) {
    jc.log.warn({ runId }, 'a run with this id exists with another spec; the stored spec is kept');
  }
  await store.linkRemote('batch', (await store.spec(runId)).batchId, runId);
  await enqueue(
    queues,
    'ingest',
    'plan',
    { runId, attempt: state.attempt },
    { jobId: stageJobId('plan', runId, state.attempt) },
  );
  await store.setStatus(runId, 'planning');
  jc.log.info({ runId }, 'run accepted; planning');
  return { runId, started: true };
};
