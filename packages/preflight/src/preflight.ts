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
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import {
  ApiError,
  BatchIdSchema,
  describeError,
  ErrorCode,
  estimateTimeoutBudget,
  isRetryable,
  JobIdSchema,
  readJsonLines,
  RfbatchError,
  runPaths,
  sameJson,
  SkippedEntry,
  UploadMode,
  type Config,
  type JobBody,
  type ResolvedRunSpec,
  type RoboflowClient,
} from '@rfbatch/shared';
import { type PlanFile, webhookUrl } from '@rfbatch/shared';

/** Videos the API suggests at most per batch (the official client's SUGGESTED_MAX_VIDEOS_IN_BATCH). */
export const SUGGESTED_MAX_VIDEOS_IN_BATCH = 1_000;
/** A staged batch that expires sooner than this is worth a warning. */
const EXPIRY_WARNING_MS = 24 * 3600_000;
const SKIPPED_EXAMPLES = 20;

export const PreflightIssue = z.object({
  /** Stable code, e.g. `api.payment_required`, `source.invalid`, `job.id_taken`. */
  code: z.string(),
  message: z.string(),
  /** What to do about it. */
  fix: z.string(),
});
export type PreflightIssue = z.infer<typeof PreflightIssue>;

export const PreflightCheck = z.object({
  name: z.enum([
    'api-key',
    'workspace',
    'batch-processing',
    'credits',
    'ids',
    'job-id',
    'batch',
    'source',
    'webhooks',
    'timeout',
  ]),
  status: z.enum(['ok', 'problem', 'warning', 'skipped']),
  detail: z.string(),
});
export type PreflightCheck = z.infer<typeof PreflightCheck>;

export const PreflightPlan = z.object({
  source: z.string(),
  sourceKind: z.enum(['directory', 'references']),
  media: z.enum(['images', 'videos']),
  /** Files that will be uploaded, and their bytes (0 for references). */
  files: z.number().int(),
  bytes: z.number().int(),
  /** Source entries seen, kept or not. */
  seen: z.number().int(),
  skipped: z.number().int(),
  skippedByReason: z.record(z.string(), z.number().int()),
  /** The first skipped files, with their reasons (all of them are in the run's skipped.jsonl). */
  skippedExamples: z.array(SkippedEntry),
  uploadMode: UploadMode,
  /** The kind of batch the uploads make. */
  batchType: z.enum(['simple-batch', 'sharded-batch']),
  /** Upload units: tar shards, single-upload groups or reference chunks. */
  units: z.number().int(),
  shards: z.number().int(),
  largestUnitItems: z.number().int(),
  webhooks: z.object({
    /** A public gateway URL is configured, so webhooks can be received at all. */
    configured: z.boolean(),
    /** The API will send ingest (data staging) notifications for this upload mode. */
    ingest: z.boolean(),
    /** The API will send the job-completion notification. */
    job: z.boolean(),
  }),
  timeoutBudget: z.object({
    /** The budget to set (rounded up, at least 10 min). */
    estimatedSeconds: z.number().int(),
    /** The estimate before rounding: a configured timeout below it is warned about. */
    neededSeconds: z.number().int(),
    configuredSeconds: z.number().int().nullable(),
    basis: z.string(),
  }),
});
export type PreflightPlan = z.infer<typeof PreflightPlan>;

/** The report of `rfbatch preflight` / `rfbatch run --dry-run` (printed with --json as is). */
export const PreflightReport = z.object({
  /** False when a problem would make the run fail later. */
  ok: z.boolean(),
  runId: z.string(),
  batchId: z.string(),
  jobId: z.string(),
  workspace: z.string().nullable(),
  checks: z.array(PreflightCheck),
  problems: z.array(PreflightIssue),
  warnings: z.array(PreflightIssue),
  plan: PreflightPlan.nullable(),
});
export type PreflightReport = z.infer<typeof PreflightReport>;

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
  planRun?: (spec: ResolvedRunSpec, workDir: string) => Promise<PlanFile>;
  now?: Date;
}

/** What the remote checks found; `transient` holds errors a later try may not meet (5xx, network). */
interface RemoteFindings {
  workspace: string | null;
  checks: PreflightCheck[];
  problems: PreflightIssue[];
  warnings: PreflightIssue[];
  transient: unknown[];
}

function status(error: unknown): number | undefined {
  return error instanceof ApiError ? error.status : undefined;
}

function apiProblem(error: unknown, what: string, workspace: string | null): PreflightIssue {
  const s = status(error);
  if (s === 401) {
    return {
      code: ErrorCode.apiUnauthorized,
      message: `the API refused the API key (401) while ${what}`,
      fix: 'set ROBOFLOW_API_KEY to the private API key of the workspace (Roboflow app → Settings → API Keys)',
    };
  }
  if (s === 402) {
    return {
      code: ErrorCode.apiPaymentRequired,
      message: `batch processing is not enabled for workspace ${workspace ? `"${workspace}"` : '(unknown)'}: it needs a Growth or Enterprise plan`,
      fix: 'upgrade the workspace plan, or use the API key of a workspace that has batch processing',
    };
  }
  return {
    code: error instanceof RfbatchError ? error.code : ErrorCode.network,
    message: `the API could not be asked while ${what}: ${describeError(error)}`,
    fix: 'check ROBOFLOW_API_URL and the network, then run the preflight again',
  };
}

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

async function checkJobId(
  client: RoboflowClient,
  spec: ResolvedRunSpec,
  jobBody: PreflightOptions['jobBody'],
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
async function checkBatch(
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

function batchTypeOf(mode: UploadMode): 'simple-batch' | 'sharded-batch' {
  return mode === 'single' || mode === 'videos' ? 'simple-batch' : 'sharded-batch';
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

async function skippedExamples(workDir: string, runId: string): Promise<SkippedEntry[]> {
  const out: SkippedEntry[] = [];
  try {
    for await (const s of readJsonLines(runPaths(workDir, runId).skipped, SkippedEntry)) {
      out.push(s);
      if (out.length >= SKIPPED_EXAMPLES) break;
    }
  } catch {
    // No skipped.jsonl: nothing was skipped.
  }
  return out;
}

/** Scans and plans the source exactly as the plan step will, into a throw-away work dir. */
async function localPlan(
  spec: ResolvedRunSpec,
  planRun: NonNullable<PreflightOptions['planRun']>,
): Promise<{ plan: PlanFile; skipped: SkippedEntry[] } | { error: unknown }> {
  const workDir = await mkdtemp(join(tmpdir(), 'rfbatch-preflight-'));
  try {
    const plan = await planRun(spec, workDir);
    return { plan, skipped: await skippedExamples(workDir, spec.runId) };
  } catch (error) {
    return { error };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

function sourceLabel(spec: ResolvedRunSpec): string {
  if (spec.source.kind === 'directory') return spec.source.path;
  return (
    spec.source.path ??
    (spec.source.url ? new URL(spec.source.url).origin + new URL(spec.source.url).pathname : '')
  );
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

function planSummary(
  spec: ResolvedRunSpec,
  plan: PlanFile,
  skipped: SkippedEntry[],
  config: Config,
): PreflightPlan {
  const configured = webhookUrl(config) !== undefined;
  const largest = plan.units.reduce((m, u) => Math.max(m, u.count), 0);
  // Tar shards carry notification_config.json and reference ingests take notificationsURL; the API sends
  // nothing for single-image (simple batch) and local video uploads.
  const ingestHooks = configured && (plan.mode === 'shards' || plan.mode === 'references');
  const budget = estimateTimeoutBudget({
    items: plan.files,
    media: spec.source.media,
    machineType: spec.compute.machineType,
    ...(plan.mode === 'shards' ? { chunks: plan.units.length, largestChunkItems: largest } : {}),
    ...(spec.source.media === 'videos' ? { videoBytes: plan.bytes } : {}),
    ...(spec.workflow.maxVideoFPS !== undefined ? { maxVideoFPS: spec.workflow.maxVideoFPS } : {}),
  });
  return {
    source: sourceLabel(spec),
    sourceKind: spec.source.kind,
    media: spec.source.media,
    files: plan.files,
    bytes: plan.bytes,
    seen: plan.seen,
    skipped: plan.skipped,
    skippedByReason: plan.skippedByReason,
    skippedExamples: skipped,
    uploadMode: plan.mode,
    batchType: batchTypeOf(plan.mode),
    units: plan.units.length,
    shards: plan.mode === 'shards' ? plan.units.length : 0,
    largestUnitItems: largest,
    webhooks: { configured, ingest: ingestHooks, job: configured },
    timeoutBudget: {
      estimatedSeconds: budget.seconds,
      neededSeconds: budget.neededSeconds,
      configuredSeconds: spec.processingTimeoutSeconds ?? null,
      basis: budget.basis,
    },
  };
}

function planWarnings(spec: ResolvedRunSpec, plan: PreflightPlan): PreflightIssue[] {
  const out: PreflightIssue[] = [];
  if (plan.skipped > 0) {
    const reasons = Object.entries(plan.skippedByReason)
      .map(([reason, n]) => `${n} ${reason}`)
      .join(', ');
    const shown = plan.skippedExamples
      .slice(0, 3)
      .map((s) => `"${s.source}" (${s.reason})`)
      .join(', ');
    out.push({
      code: 'source.skipped',
      message: `${plan.skipped} of ${plan.seen} source entries will be skipped (${reasons}), e.g. ${shown}`,
      fix: 'images must be jpg, png, webp, bmp or jp2 of at most 20 MiB (videos mp4, mov, avi, mkv, flv, wmv, m4v); fix or remove the files, or accept that they are left out',
    });
  }
  if (plan.media === 'videos' && plan.files > SUGGESTED_MAX_VIDEOS_IN_BATCH) {
    out.push({
      code: 'source.many_videos',
      message: `${plan.files} videos in one batch, above the ${SUGGESTED_MAX_VIDEOS_IN_BATCH} the API suggests`,
      fix: 'split the source into several runs of at most 1,000 videos',
    });
  }
  if (plan.webhooks.configured && !plan.webhooks.ingest) {
    const why =
      plan.uploadMode === 'single'
        ? `a simple batch (${plan.files} images by single upload)`
        : 'local video uploads';
    out.push({
      code: 'webhooks.dropped',
      message: `the API sends no ingest notifications for ${why}: indexing is followed by polling only (the job's completion webhook still fires)`,
      fix:
        plan.uploadMode === 'single'
          ? `more than ${spec.upload.singleUploadMaxImages} images go as tar shards, which do notify`
          : 'nothing to fix; polling finishes the run',
    });
  }
  const { estimatedSeconds, neededSeconds, configuredSeconds } = plan.timeoutBudget;
  if (configuredSeconds !== null && configuredSeconds < neededSeconds) {
    out.push({
      code: 'timeout.short',
      message: `the job's processingTimeoutSeconds of ${configuredSeconds} s is below the estimated ${neededSeconds} s it may need (${plan.timeoutBudget.basis})`,
      fix: `raise it with --timeout ${estimatedSeconds}, or keep it if the Workflow is known to be faster (a timed-out job can be restarted with \`rfbatch retry <run> --timeout …\`)`,
    });
  }
  return out;
}

function webhookCheck(plan: PreflightPlan): PreflightCheck {
  if (!plan.webhooks.configured)
    return {
      name: 'webhooks',
      status: 'ok',
      detail: 'no public gateway URL (RFBATCH_PUBLIC_URL): progress is polled',
    };
  if (!plan.webhooks.ingest)
    return {
      name: 'webhooks',
      status: 'warning',
      detail: `the job webhook fires; ingest notifications do not (${plan.uploadMode} uploads)`,
    };
  return { name: 'webhooks', status: 'ok', detail: 'ingest and job webhooks fire (polling still decides)' };
}

function timeoutCheck(plan: PreflightPlan): PreflightCheck {
  const { estimatedSeconds, neededSeconds, configuredSeconds, basis } = plan.timeoutBudget;
  if (configuredSeconds === null)
    return {
      name: 'timeout',
      status: 'ok',
      detail: `not set (the API's default applies); ${estimatedSeconds} s should fit: ${basis}`,
    };
  const status = configuredSeconds < neededSeconds ? 'warning' : 'ok';
  return {
    name: 'timeout',
    status,
    detail: `${configuredSeconds} s set, about ${neededSeconds} s needed (${estimatedSeconds} s suggested)`,
  };
}
