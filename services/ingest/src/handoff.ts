import { enqueue, stageJobId, type ServiceContext } from '@rfbatch/shared';
import { type PlanFile } from '@rfbatch/shared';

/**
 * Every upload child finished: the run leaves ingest. The jobs service verifies that the batch holds
 * `expected` items before it starts the job. Idempotent: the verify job id is derived from the run.
 */
export async function handOff(
  ctx: ServiceContext,
  runId: string,
  attempt: number,
  plan: PlanFile,
): Promise<boolean> {
  const { store, queues } = ctx;
  if (await store.isTerminal(runId)) return false;
  await store.setCounters(runId, { expected: plan.files });
  await store.stageEnded(runId, 'upload');
  await enqueue(
    queues,
    'jobs',
    'verify',
    { runId, attempt },
    { jobId: stageJobId('verify', runId, attempt) },
  );
  await store.setStatus(runId, 'verifying');
  return true;
}
