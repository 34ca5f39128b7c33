/**
 * The run's job id and batch id against what already exists remotely: a job id taken by another
 * definition (the start would answer 409), an existing batch (its kind must fit; it may expire soon).
 */
import {
  describeError,
  ErrorCode,
  EXPIRY_WARNING_MS,
  isRetryable,
  sameJson,
  type JobBody,
  type ResolvedRunSpec,
  type RoboflowClient,
  type UploadMode,
} from '@rfbatch/shared';
import { apiProblem, status, type RemoteFindings } from './api-problem.js';
import { batchTypeOf } from './preflight-report.schema.js';

export async function checkJobId(
  client: RoboflowClient,
  spec: ResolvedRunSpec,
  jobBody: ((workspace: string) => JobBody) | undefined,
  found: RemoteFindings,
): Promise<void> {
  let existing;
  try {
    existing = (await client.getJob(spec.jobId)).job;
  } catch (error) {
    if (status(error) === 404) {
      found.checks.push({ name: 'job-id', status: 'ok', detail: `job id "${spec.jobId}" is free` });
      return;
    }
    found.problems.push(
      apiProblem(error, `checking whether job id "${spec.jobId}" is free`, found.workspace),
    );
    found.checks.push({ name: 'job-id', status: 'problem', detail: describeError(error) });
    if (isRetryable(error)) found.transient.push(error);
    return;
  }
  if (!existing) {
    found.checks.push({
      name: 'job-id',
      status: 'warning',
      detail: `job "${spec.jobId}" exists, but its definition could not be read`,
    });
    return;
  }
  const def = existing.jobDefinition as {
    jobInput?: { batchId?: unknown };
    processingSpecification?: { workflowId?: unknown };
  };
  const wanted = jobBody && found.workspace ? jobBody(found.workspace) : undefined;
  const same = wanted
    ? sameJson(existing.jobDefinition, wanted)
    : def.jobInput?.batchId === spec.batchId &&
      def.processingSpecification?.workflowId === spec.workflow.workflowId;
  if (!same) {
    const was = `batch "${String(def.jobInput?.batchId)}", Workflow "${String(def.processingSpecification?.workflowId)}"`;
    const message = `job id "${spec.jobId}" is taken by a job with a different definition (${was}); starting this run's job would answer 409`;
    found.problems.push({
      code: ErrorCode.apiConflict,
      message,
      fix: 'give the run another job id (--job-id / RunSpec "jobId"), or leave it out to derive one from the run id',
    });
    found.checks.push({ name: 'job-id', status: 'problem', detail: message });
    return;
  }
  const state = existing.isTerminal ? (existing.error ? 'failed' : 'completed') : 'running';
  const detail = `job "${spec.jobId}" already exists with ${wanted ? 'the same definition' : 'the same batch and Workflow'} (${state}): the run follows it instead of starting another`;
  found.checks.push({ name: 'job-id', status: 'warning', detail });
  found.warnings.push({
    code: 'job.exists',
    message: detail,
    fix:
      state === 'failed'
        ? `after this run fails at the job, \`rfbatch retry <run>\` restarts it; or choose another --job-id`
        : 'choose another --job-id to process the source again',
  });
}

/** The batch the run uploads to: new, or an existing one (then its kind must fit and its items count). */
export async function checkBatch(
  client: RoboflowClient,
  spec: ResolvedRunSpec,
  mode: UploadMode | undefined,
  now: Date,
  found: RemoteFindings,
): Promise<void> {
  let batch;
  try {
    batch = await client.getBatch(spec.batchId);
  } catch (error) {
    if (status(error) === 404) {
      found.checks.push({
        name: 'batch',
        status: 'ok',
        detail: `batch "${spec.batchId}" is new (the first upload creates it)`,
      });
      return;
    }
    found.problems.push(apiProblem(error, `reading batch "${spec.batchId}"`, found.workspace));
    found.checks.push({ name: 'batch', status: 'problem', detail: describeError(error) });
    if (isRetryable(error)) found.transient.push(error);
    return;
  }
  const wanted = mode === undefined ? undefined : batchTypeOf(mode);
  if (wanted && batch.batchType !== wanted) {
    const message = `batch "${spec.batchId}" exists as a ${batch.batchType}, but this run's ${mode} uploads make a ${wanted}; the API refuses to mix them`;
    found.problems.push({
      code: 'batch.kind_mismatch',
      message,
      fix: 'give the run another batch id (--batch-id), or leave it out to derive one from the run id',
    });
    found.checks.push({ name: 'batch', status: 'problem', detail: message });
    return;
  }
  const count = await client.countBatch(spec.batchId).catch(() => undefined);
  const msLeft = Date.parse(batch.expiryDate) - now.getTime();
  const detail = `batch "${spec.batchId}" already exists (${batch.batchType}, ${count ?? '?'} items, expires ${batch.expiryDate})`;
  found.checks.push({ name: 'batch', status: 'warning', detail });
  found.warnings.push({
    code: 'batch.exists',
    message: `${detail}: the job processes every item in it, this run's and any already there`,
    fix: 'leave out --batch-id for a fresh batch, unless this run is meant to add to that batch',
  });
  if (msLeft < EXPIRY_WARNING_MS) {
    found.warnings.push({
      code: 'batch.expiring',
      message: `batch "${spec.batchId}" expires in ${Math.max(0, Math.round(msLeft / 60_000))} min (${batch.expiryDate}): its data is deleted then, possibly before the job ends`,
      fix: 'use a fresh batch id so the inputs are staged again with a new 7-day expiry',
    });
  }
}
