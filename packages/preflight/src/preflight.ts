/**
 * Preflight: everything that can be known about a run before a single byte is uploaded, in one
 * report — the API key and workspace, whether the workspace can run batch jobs at all (a 402 on a
 * cheap batch-processing call), the ids, whether the job id is free, the source and the plan the
 * planner would make (files, skipped files and why, shards, bytes, upload mode), whether webhooks
 * will fire, and a processing-timeout budget. Each problem says how to fix it; `ok` is false when a
 * problem would make the run fail later. `rfbatch preflight` and `rfbatch run --dry-run` print it; the
 * plan step of a real run calls `assertRemotePreflight` first, so a workspace without batch
 * processing fails the run before anything is uploaded.
 */
import {
  BatchIdSchema,
  ErrorCode,
  JobIdSchema,
  RfbatchError,
  type Config,
  type JobBody,
  type ResolvedRunSpec,
  type RoboflowClient,
  type UploadMode,
} from '@rfbatch/shared';
import { localPlan, planSummary, type PlanRun } from './local-plan.js';
import { planWarnings, timeoutCheck, webhookCheck } from './plan-checks.js';
import {
  PreflightReport,
  type PreflightCheck,
  type PreflightIssue,
  type PreflightPlan,
} from './preflight-report.schema.js';
import { remotePreflight } from './remote-checks.js';

export interface PreflightOptions {
  /** A client for the API; undefined when no API key is configured (a problem, remote checks skipped). */
  client: RoboflowClient | undefined;
  /** For the webhook URL (RFBATCH_PUBLIC_URL + secret). */
  config: Config;
  /**
   * The job body the run would send, for comparing with a job that already holds the id. Without it
   * only the input batch and Workflow are compared.
   */
  jobBody?: (workspace: string) => JobBody;
  /**
   * Scans and plans the source exactly as the plan step will (the ingest service's `planRun`), into
   * the work dir it is given. Absent: no local plan (remote checks only).
   */
  planRun?: PlanRun;
  now?: Date;
}

/** Everything checked before a byte is uploaded, in one report. Never uploads, never creates anything remotely. */
export async function preflight(spec: ResolvedRunSpec, options: PreflightOptions): Promise<PreflightReport> {
  const checks: PreflightCheck[] = [];
  const problems: PreflightIssue[] = [];
  const warnings: PreflightIssue[] = [];

  const idProblems = [
    ...(BatchIdSchema.safeParse(spec.batchId).success
      ? []
      : [
          `batch id ${JSON.stringify(spec.batchId)} breaks the API's rule: 1 to 64 characters of a-z, 0-9, "_" and "-"`,
        ]),
    ...(JobIdSchema.safeParse(spec.jobId).success
      ? []
      : [
          `job id ${JSON.stringify(spec.jobId)} breaks the API's rule: 1 to 20 characters of a-z, 0-9, "_" and "-"`,
        ]),
  ];
  for (const message of idProblems)
    problems.push({
      code: ErrorCode.validation,
      message,
      fix: 'fix --batch-id / --job-id, or leave them out to derive them from the run id',
    });
  checks.push(
    idProblems.length
      ? { name: 'ids', status: 'problem', detail: idProblems.join('; ') }
      : { name: 'ids', status: 'ok', detail: `batch "${spec.batchId}", job "${spec.jobId}"` },
  );

  let plan: PreflightPlan | null = null;
  let mode: UploadMode | undefined;
  if (options.planRun) {
    const planned = await localPlan(spec, options.planRun);
    if ('error' in planned) {
      const error = planned.error;
      const hint =
        error instanceof RfbatchError && error.hint
          ? error.hint
          : 'check the source path and that this process can read it';
      problems.push({
        code: error instanceof RfbatchError ? error.code : ErrorCode.source,
        message: error instanceof Error ? error.message : String(error),
        fix: hint,
      });
      checks.push({
        name: 'source',
        status: 'problem',
        detail: error instanceof Error ? error.message : String(error),
      });
    } else {
      plan = planSummary(spec, planned.plan, planned.skipped, options.config);
      mode = plan.uploadMode;
      checks.push({
        name: 'source',
        status: plan.skipped ? 'warning' : 'ok',
        detail: `${plan.files} ${spec.source.media} to upload${plan.bytes ? ` (${plan.bytes} bytes)` : ''}${plan.skipped ? `, ${plan.skipped} skipped` : ''}`,
      });
      warnings.push(...planWarnings(spec, plan));
      checks.push(webhookCheck(plan));
      checks.push(timeoutCheck(plan));
    }
  }

  const remote = await remotePreflight(options.client, spec, {
    ...(options.jobBody ? { jobBody: options.jobBody } : {}),
    ...(mode ? { mode } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  checks.unshift(...remote.checks);
  problems.unshift(...remote.problems);
  warnings.push(...remote.warnings);
  return PreflightReport.parse({
    ok: problems.length === 0,
    runId: spec.runId,
    batchId: spec.batchId,
    jobId: spec.jobId,
    workspace: remote.workspace,
    checks,
    problems,
    warnings,
    plan,
  });
}
