/**
 * Re-staging on retry: staged inputs and job outputs are deleted 7 days after upload (`expiryDate`),
 * and a bucket's presigned references stop working at their expiry (`referencesExpireAt`),
 * so a run retried later than that would restart a job whose input is gone and fail obscurely.
 * Instead, a retry that finds the run's inputs expired (or its outputs, before they were downloaded)
 * stages the inputs again from the manifest — into a FRESH batch id, under a fresh job id — and
 * resumes the run at its plan step; nothing else of the run changes (manifest, remote names, output
 * folder), so results join as before.
 *
 * Why fresh ids rather than the same ones: what the API does with an expired batch id is undocumented
 * (it may still be reserved, or come back empty), a repeated reference ingest id may be answered as a
 * duplicate of the expired ingest, and the old job's definition names the old batch — re-posting a
 * different definition under its id answers 409, and restarting it would read what is no longer there.
 * New batch: `<original batch id>-s<attempt>` (a previous `-s<n>` suffix is replaced); new job:
 * derived from `<runId>-s<attempt>` like every default job id. Both are linked to the run, so
 * webhooks still find it; the old job is left as it is.
 */
import {
  ApiError,
  deriveJobId,
  parseOrThrow,
  RunSpecSchema,
  Stage,
  type ResolvedRunSpec,
  type RestartOverrides,
  type RunState,
  type ServiceContext,
} from '@rfbatch/shared';

/** Done-set keys of uploads and downloads: forgotten, so everything is uploaded (and fetched) again. */
const WORK_CHECKPOINTS = ['shard:', 'group:', 'chunk:', 'file:', 'children:', 'download:'] as const;

export interface RestageResult {
  /** Why the inputs had to be staged again. */
  reason: string;
  previousBatchId: string;
  previousJobId: string;
  batchId: string;
  jobId: string;
}

/** The batch id of a re-stage: the original id plus `-s<attempt>`, within the API's 64 characters. */
export function restagedBatchId(batchId: string, attempt: number): string {
  const suffix = `-s${attempt}`;
  return `${batchId.replace(/-s\d+$/, '').slice(0, 64 - suffix.length)}${suffix}`;
}

/**
 * Why a retry at `failedAt` cannot use what is staged, or undefined when it can. Inputs are needed
 * again from upload to download: a partial upload cannot be completed into a batch that is gone, and
 * a job cannot run (or be re-run for outputs that expired) without its inputs.
 */
export async function expiredStagedData(
  ctx: ServiceContext,
  spec: ResolvedRunSpec,
  state: RunState,
  failedAt: Stage,
  now = new Date(),
): Promise<string | undefined> {
  const at = Stage.options.indexOf(failedAt);
  if (at < Stage.options.indexOf('upload') || failedAt === 'finalize') return undefined;
  if ((state.counters.filesUploaded ?? 0) === 0 && at < Stage.options.indexOf('verify')) return undefined; // nothing staged yet
  if (at >= Stage.options.indexOf('collect')) {
    // The job succeeded; only outputs that expired before they were downloaded need a new job.
    if (!state.outputExpiresAt || Date.parse(state.outputExpiresAt) > now.getTime()) return undefined;
    return `outputs of job "${spec.jobId}" expired on ${state.outputExpiresAt} before they were downloaded`;
  }
  // References presigned for the API to fetch: past their expiry, what was not indexed by then never
  // will be, and resending the chunks under their ingest ids would be answered as duplicates.
  if (
    state.referencesExpireAt &&
    Date.parse(state.referencesExpireAt) <= now.getTime() &&
    at <= Stage.options.indexOf('verify')
  )
    return `the presigned URLs of the run's bucket objects expired on ${state.referencesExpireAt} before every object was indexed`;
  try {
    const batch = await ctx.client.getBatch(spec.batchId);
    return Date.parse(batch.expiryDate) <= now.getTime()
      ? `batch "${spec.batchId}" expired on ${batch.expiryDate}`
      : undefined;
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) throw error;
    const when = state.batchExpiresAt ? ` (it was due to expire on ${state.batchExpiresAt})` : '';
    return `batch "${spec.batchId}" is gone${when}`;
  }
}

/** The spec of a re-staged run: fresh ids, and restart overrides folded into the new job's settings. */
export function restagedSpec(
  spec: ResolvedRunSpec,
  attempt: number,
  overrides?: Omit<RestartOverrides, 'type'>,
): ResolvedRunSpec {
  const compute = overrides?.computeConfiguration;
  const next = {
    ...spec,
    batchId: restagedBatchId(spec.batchId, attempt),
    jobId: deriveJobId(`${spec.runId}-s${attempt}`),
    compute: {
      ...spec.compute,
      ...(compute?.machineType ? { machineType: compute.machineType } : {}),
      ...(compute?.workersPerMachine !== undefined ? { workersPerMachine: compute.workersPerMachine } : {}),
    },
    ...(overrides?.processingTimeoutSeconds !== undefined
      ? { processingTimeoutSeconds: overrides.processingTimeoutSeconds }
      : {}),
    ...(overrides?.maxParallelTasks !== undefined ? { maxParallelTasks: overrides.maxParallelTasks } : {}),
    ...(overrides?.maxImageFailureRate !== undefined
      ? { maxImageFailureRate: overrides.maxImageFailureRate }
      : {}),
  };
  const parsed = parseOrThrow(
    RunSpecSchema,
    next,
    'retry overrides',
    'give overrides the RunSpec accepts (e.g. --timeout of at least 60 s)',
  );
  return { ...parsed, runId: spec.runId, batchId: next.batchId, jobId: next.jobId };
}

/**
 * Moves the run to fresh batch and job ids and forgets its upload and download checkpoints, so the
 * next attempt (which must resume at the plan step) stages the inputs again. `attempt` is the
 * attempt that will run. Records a warning that says what happened.
 */
export async function restageRun(
  ctx: ServiceContext,
  spec: ResolvedRunSpec,
  attempt: number,
  reason: string,
  overrides?: Omit<RestartOverrides, 'type'>,
): Promise<RestageResult> {
  const { store } = ctx;
  const runId = spec.runId;
  const next = restagedSpec(spec, attempt, overrides);
  await store.setSpec(runId, next);
  await store.linkRemote('batch', next.batchId, runId);
  for (const prefix of WORK_CHECKPOINTS) await store.clearDone(runId, prefix);
  await store.setCounters(runId, {
    bytesUploaded: 0,
    shardsUploaded: 0,
    filesUploaded: 0,
    indexed: 0,
    downloadsTotal: 0,
    downloadsDone: 0,
    bytesDownloaded: 0,
    results: 0,
    missing: 0,
  });
  // The old job and expiry dates describe data that is gone; verify, collect and the references
  // sender record the new ones (the sender keeps the earliest expiry, so the old one must go).
  await store.redis.hdel(store.key(runId), 'job', 'batchExpiresAt', 'outputExpiresAt', 'referencesExpireAt');
  await store.warn(
    runId,
    `${reason}: the retry stages the inputs again into batch "${next.batchId}" and runs them as job "${next.jobId}" (job "${spec.jobId}" is left as it is)`,
  );
  ctx.logger.info({ runId, batchId: next.batchId, roboflowJobId: next.jobId, reason }, 'run re-staged');
  return {
    reason,
    previousBatchId: spec.batchId,
    previousJobId: spec.jobId,
    batchId: next.batchId,
    jobId: next.jobId,
  };
}
