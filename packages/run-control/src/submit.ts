import {
  enqueue,
  parseOrThrow,
  resolveRunSpec,
  RunSpecSchema,
  stageJobId,
  type Queues,
  type ResolvedRunSpec,
  type RunStore,
} from '@rfbatch/shared';

export interface SubmitResult {
  runId: string;
  /** False when a run with this id existed already (nothing new was started). */
  created: boolean;
}

/**
 * Submits a run: validates the spec (a ValidationError lists every bad field), settles its ids,
 * records it and puts it on the `runs` queue. Submitting the same runId twice does not start two runs:
 * the second call changes nothing (it only re-enqueues an intake that a crash may have lost, under the
 * same job id, which BullMQ ignores when it exists).
 */
export async function submitRun(queues: Queues, store: RunStore, input: unknown): Promise<SubmitResult> {
  const spec = resolveRunSpec(
    parseOrThrow(
      RunSpecSchema,
      input,
      'run spec',
      'fix the fields above; `rfbatch schema` prints the RunSpec JSON Schema',
    ),
  );
  const created = await store.create(spec);
  const state = await store.get(spec.runId);
  if (created || state?.status === 'queued') await enqueueIntake(queues, spec);
  return { runId: spec.runId, created };
}

export async function enqueueIntake(queues: Queues, spec: ResolvedRunSpec): Promise<void> {
  await enqueue(queues, 'runs', 'intake', { spec }, { jobId: stageJobId('intake', spec.runId) });
}
