import { ErrorCode, RfbatchError, type ResolvedRunSpec, type ServiceContext } from '@rfbatch/shared';
import { advance } from '@rfbatch/worker-kit';

/**
 * A run on what is already at the API (a `staged` source) skips scan, plan and upload:
 * - adopting a job started elsewhere (`rfbatch run --job`): follow it from `await`;
 * - a staged batch (`rfbatch run --batch`, `--part`): its item count (of the part) is what verify
 *   expects, then the job starts as usual. An empty or missing batch fails here, named.
 */
export async function intakeStaged(
  ctx: ServiceContext,
  spec: ResolvedRunSpec,
  attempt: number,
): Promise<void> {
  const { runId } = spec;
  if (spec.mode === 'adopt-job') {
    await ctx.store.linkRemote('job', spec.jobId, runId);
    const count = await ctx.client.countBatch(spec.batchId).catch(() => 0);
    await ctx.store.setCounters(runId, { expected: count, indexed: count });
    await advance(ctx, runId, attempt, { to: { queue: 'jobs', name: 'await' }, status: 'processing' });
    return;
  }
  const partName = spec.source.kind === 'staged' ? spec.source.partName : undefined;
  const count = await ctx.client.countBatch(spec.batchId, partName ? { partName } : {});
  if (count <= 0) {
    throw new RfbatchError(
      ErrorCode.validation,
      `batch "${spec.batchId}"${partName ? ` (part "${partName}")` : ''} holds no items`,
      {
        hint: 'stage it first (`rfbatch stage <source> --batch-id <id>`), or check the id with `rfbatch batches ls`',
      },
    );
  }
  await ctx.store.setCounters(runId, { expected: count, planned: count });
  await advance(ctx, runId, attempt, { to: { queue: 'jobs', name: 'verify' }, status: 'verifying' });
}
