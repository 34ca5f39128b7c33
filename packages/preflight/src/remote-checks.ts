/**
 * The checks that need the API, in order, each skipped when an earlier one failed: the API key, its
 * workspace, whether the workspace can run batch jobs (the plan gate), then the job id and the batch.
 */
import {
  ErrorCode,
  isRetryable,
  RfbatchError,
  type JobBody,
  type ResolvedRunSpec,
  type RoboflowClient,
  type UploadMode,
} from '@rfbatch/shared';
import { apiProblem, status, type RemoteFindings } from './api-problem.js';
import type { PreflightCheck } from './preflight-report.schema.js';
import { checkBatch, checkJobId } from './remote-ids.js';

/**
 * The checks that need the API: key and workspace, batch processing enabled, the job id, the batch.
 * Never uploads anything and never creates a batch or a job.
 */
export async function remotePreflight(
  client: RoboflowClient | undefined,
  spec: ResolvedRunSpec,
  options: { jobBody?: (workspace: string) => JobBody; mode?: UploadMode; now?: Date } = {},
): Promise<RemoteFindings> {
  const found: RemoteFindings = { workspace: null, checks: [], problems: [], warnings: [], transient: [] };
  const skip = (names: PreflightCheck['name'][], why: string) =>
    names.forEach((name) => found.checks.push({ name, status: 'skipped', detail: why }));
  const fail = (name: PreflightCheck['name'], error: unknown, what: string) => {
    const problem = apiProblem(error, what, found.workspace);
    found.problems.push(problem);
    found.checks.push({ name, status: 'problem', detail: problem.message });
    if (isRetryable(error) && status(error) !== 401 && status(error) !== 402) found.transient.push(error);
  };
  const later = ['batch-processing', 'credits', 'job-id', 'batch'] as const;

  if (!client) {
    found.problems.push({
      code: ErrorCode.config,
      message: 'ROBOFLOW_API_KEY is not set',
      fix: 'set ROBOFLOW_API_KEY to the private API key of the workspace (Roboflow app → Settings → API Keys)',
    });
    found.checks.push({ name: 'api-key', status: 'problem', detail: 'no API key configured' });
    skip(['workspace', ...later], 'no API key');
    return found;
  }
  found.checks.push({ name: 'api-key', status: 'ok', detail: 'an API key is configured' });

  try {
    found.workspace = await client.workspace();
    found.checks.push({
      name: 'workspace',
      status: 'ok',
      detail: `the key belongs to workspace "${found.workspace}"`,
    });
  } catch (error) {
    fail('workspace', error, 'discovering the workspace of the API key');
    skip([...later], 'the workspace is unknown');
    return found;
  }

  // The plan gate: any batch-processing call answers 402 for a workspace without it; one page of one job is the cheapest.
  try {
    for await (const _job of client.listJobs({ pageSize: 1 })) break;
    found.checks.push({
      name: 'batch-processing',
      status: 'ok',
      detail: `workspace "${found.workspace}" can run batch jobs`,
    });
  } catch (error) {
    fail('batch-processing', error, 'checking that the workspace can run batch jobs');
    skip(
      ['credits', 'job-id', 'batch'],
      status(error) === 402 ? 'batch processing is not enabled' : 'the batch-processing API did not answer',
    );
    return found;
  }
  found.checks.push({
    name: 'credits',
    status: 'skipped',
    detail:
      'the API has no call that shows credits before a job starts; a workspace out of credits gets 429 when the job starts',
  });

  await checkJobId(client, spec, options.jobBody, found);
  await checkBatch(client, spec, options.mode, options.now ?? new Date(), found);
  return found;
}

/**
 * For the plan step of a real run: the remote checks, before anything is scanned or uploaded. Throws
 * the API's own (retryable) error when the API only failed to answer, so the step is retried; throws
 * a non-retryable error naming every problem (401, 402, a taken job id) so the run fails at once.
 */
export async function assertRemotePreflight(
  client: RoboflowClient,
  spec: ResolvedRunSpec,
  options: { jobBody?: (workspace: string) => JobBody } = {},
): Promise<RemoteFindings> {
  const found = await remotePreflight(client, spec, options);
  if (found.transient.length) throw found.transient[0];
  if (found.problems.length === 0) return found;
  const first = found.problems[0]!;
  const code = (Object.values(ErrorCode) as string[]).includes(first.code)
    ? (first.code as ErrorCode)
    : ErrorCode.run;
  const message = `preflight failed before any upload: ${found.problems.map((p) => p.message).join('; ')}`;
  throw new RfbatchError(code, message, { hint: found.problems.map((p) => p.fix).join('; ') });
}
