/** §3 Batch Processing endpoints. */
import { canonicalJson, RestartOverrides, StartJobBody } from '@rfbatch/shared';
import { authenticate, checkJobId } from '../auth.js';
import type { Deps } from '../context.js';
import { HttpError, httpError, readJson, sendJson } from '../http.js';
import { page, pageRequest } from '../pagination.js';
import type { RequestContext, Router } from '../router.js';
import type { JobRecord } from '../store.js';
import { jobLog, jobMetadata, jobProgress, jobStatus, stageDetails, taskStatus } from './view.js';
import { missingBatchMessage } from '../staging/expiry.js';

const BASE = '/batch-processing/v1/external/:workspace/jobs';

export function registerJobRoutes(router: Router, deps: Deps): void {
  /** Auth, then the payment-required fault (402 comes before anything else, as a plan check would). */
  const guard = (ctx: RequestContext) => {
    authenticate(ctx, deps.options);
    if (deps.faults.get().paymentRequired)
      throw httpError(402, 'Batch processing is not enabled for this workspace');
  };
  const jobOf = (ctx: RequestContext): JobRecord => {
    guard(ctx);
    const jobId = checkJobId(ctx.params.jobId);
    const job = deps.store.state.jobs[jobId];
    if (!job) throw httpError(404, `job ${JSON.stringify(jobId)} not found`);
    return job;
  };

  router.add('GET', BASE, (ctx) => {
    guard(ctx);
    const all = Object.values(deps.store.state.jobs).sort(
      (a, b) => b.createdAt.localeCompare(a.createdAt) || a.jobId.localeCompare(b.jobId),
    );
    const p = page(all, pageRequest(ctx, deps.options));
    sendJson(ctx.res, 200, { status: 'ok', jobs: p.items.map(jobMetadata), nextPageToken: p.nextPageToken });
  });

  router.add('POST', `${BASE}/:jobId`, async (ctx) => {
    guard(ctx);
    const jobId = checkJobId(ctx.params.jobId);
    const raw = await readJson(ctx.req);
    const parsed = StartJobBody.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const path = issue?.path.map(String).join('.') || '(body)';
      throw new HttpError(400, { message: `"${path}" ${issue?.message ?? 'is invalid'}` });
    }
    const body = parsed.data;
    if (
      body.type !== 'trt-compilation-v1' &&
      body.processingSpecification.workspace !== deps.options.workspace
    ) {
      throw new HttpError(400, {
        message: `"processingSpecification.workspace" is ${JSON.stringify(body.processingSpecification.workspace)}, but the API key belongs to workspace "${deps.options.workspace}"`,
      });
    }
    const definition = raw as Record<string, unknown>;
    const key = canonicalJson(definition);
    const existing = deps.store.state.jobs[jobId];
    if (existing) {
      if (existing.definitionKey === key) return sendJson(ctx.res, 200, { status: 'ok' });
      throw httpError(
        409,
        `job ${JSON.stringify(jobId)} already exists with a different definition; use another job id`,
      );
    }
    if (body.type !== 'trt-compilation-v1' && !deps.store.state.batches[body.jobInput.batchId]) {
      throw httpError(404, `input ${missingBatchMessage(deps, body.jobInput.batchId)}`);
    }
    deps.jobs.create(jobId, ctx.query.get('name') || jobId, definition, key);
    sendJson(ctx.res, 200, { status: 'ok' });
  });

  router.add('GET', `${BASE}/:jobId`, (ctx) => {
    const job = jobOf(ctx);
    sendJson(ctx.res, 200, {
      status: 'ok',
      jobStatus: jobStatus(job),
      progress: jobProgress(job),
      job: jobMetadata(job),
    });
  });

  router.add('GET', `${BASE}/:jobId/stages`, (ctx) => {
    const job = jobOf(ctx);
    sendJson(ctx.res, 200, { status: 'ok', stages: job.stages.map(stageDetails) });
  });

  router.add('GET', `${BASE}/:jobId/stages/:stageId/tasks`, (ctx) => {
    const job = jobOf(ctx);
    const stage = job.stages.find((s) => s.stageId === ctx.params.stageId);
    if (!stage)
      throw httpError(
        404,
        `stage ${JSON.stringify(ctx.params.stageId)} not found in job ${JSON.stringify(job.jobId)}`,
      );
    const p = page(stage.tasks, pageRequest(ctx, deps.options));
    sendJson(ctx.res, 200, { status: 'ok', tasks: p.items.map(taskStatus), nextPageToken: p.nextPageToken });
  });

  router.add('GET', `${BASE}/:jobId/logs`, (ctx) => {
    const job = jobOf(ctx);
    const severity = ctx.query.get('severity');
    if (severity !== null && !['info', 'warning', 'error'].includes(severity)) {
      throw httpError(400, `invalid severity ${JSON.stringify(severity)}: use info, warning or error`);
    }
    const logs = severity ? job.logs.filter((l) => l.severity === severity) : job.logs;
    const p = page(logs, pageRequest(ctx, deps.options));
    sendJson(ctx.res, 200, { status: 'ok', logs: p.items.map(jobLog), nextPageToken: p.nextPageToken });
  });

  router.add('POST', `${BASE}/:jobId/abort`, (ctx) => {
    const job = jobOf(ctx);
    const wasTerminal = job.isTerminal;
    deps.jobs.abort(job);
    sendJson(ctx.res, 200, {
      status: 'ok',
      jobId: job.jobId,
      message: wasTerminal ? 'Job already finished; nothing to abort' : 'Job aborted',
    });
  });

  router.add('POST', `${BASE}/:jobId/restart`, async (ctx) => {
    const job = jobOf(ctx);
    const raw = await readJson(ctx.req);
    let overrides: RestartOverrides | undefined;
    if (raw !== undefined && raw !== null) {
      const parsed = RestartOverrides.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new HttpError(400, {
          message: `"${issue?.path.map(String).join('.') || '(body)'}" ${issue?.message ?? 'is invalid'}`,
        });
      }
      overrides = parsed.data;
    }
    if (!job.isTerminal || !job.error) {
      throw httpError(
        409,
        `job ${JSON.stringify(job.jobId)} is ${job.isTerminal ? 'completed' : 'still running'}; only failed or aborted jobs can be restarted`,
      );
    }
    deps.jobs.restart(job, overrides);
    sendJson(ctx.res, 200, { status: 'ok', jobId: job.jobId, message: 'Job restarted' });
  });
}
