import { ApiError, buildJobBody, ErrorCode, jobDisplayName, RfbatchError, webhookUrl } from '@rfbatch/shared';
import { advance, defineProcessor } from '@rfbatch/worker-kit';
import type { JobsDeps } from './deps.js';

/** What a refused start means for the user, by HTTP status. Undefined: keep the client's error. */
function explainStartError(error: unknown, jobId: string, runId: string): RfbatchError | undefined {
  if (!(error instanceof ApiError)) return undefined;
  const said = error.serverMessage ? `: ${error.serverMessage}` : '';
  switch (error.status) {
    case 409:
      return new RfbatchError(
        ErrorCode.apiConflict,
        `job id "${jobId}" is taken by another job with a different definition${said}`,
        {
          status: 409,
          cause: error,
          hint: `give the run another job id (RunSpec "jobId", or --job-id) and submit it again; \`rfbatch jobs show ${jobId}\` shows the existing job`,
        },
      );
    case 400:
      return new RfbatchError(
        ErrorCode.apiBadRequest,
        `the API refused the job definition of run "${runId}"${said}`,
        {
          status: 400,
          cause: error,
          hint: 'fix the RunSpec field the message names (workflow, compute, timeout, failure rate) and submit again',
        },
      );
    case 401:
    case 402:
      return new RfbatchError(
        error.code,
        `the API refused to start job "${jobId}" (${error.status})${said}`,
        {
          status: error.status,
          cause: error,
          hint:
            error.hint ??
            (error.status === 401
              ? 'check ROBOFLOW_API_KEY'
              : 'batch processing needs a Growth or Enterprise plan with credits'),
        },
      );
    default:
      return undefined;
  }
}

/**
 * start: `POST /jobs/{jobId}` with the full body built from the RunSpec. The job id is derived from
 * the run and linked to it before the POST (so a webhook for it always finds its run); the body is
 * deterministic, so repeating the call after a lost answer is safe. Then hands the run to `await`.
 */
export const startProcessor = defineProcessor(
  'jobs',
  'start',
  async ({ data, spec, log }, { ctx, options: opts }: JobsDeps) => {
    const { runId, attempt } = data;
    await ctx.store.setStatus(runId, 'starting');
    await ctx.store.stageStarted(runId, 'start');
    const workspace = await ctx.client.workspace();
    const body = buildJobBody(spec, workspace, webhookUrl(ctx.config));
    await ctx.store.linkRemote('job', spec.jobId, runId);
    try {
      await ctx.client.startJob(spec.jobId, body, { name: jobDisplayName(spec) });
    } catch (error) {
      throw explainStartError(error, spec.jobId, runId) ?? error;
    }
    await ctx.store.setJob(runId, {
      state: 'pending',
      stage: null,
      progress: null,
      checkedAt: new Date().toISOString(),
    });
    // The await stage starts now, not at its first poll (pollMinMs later).
    await ctx.store.stageStarted(runId, 'await');
    // The await job exists before the run says "processing", so whoever sees the status finds it.
    await advance(ctx, runId, attempt, {
      from: 'start',
      to: { queue: 'jobs', name: 'await' },
      status: 'processing',
      delayMs: opts.pollMinMs,
    });
    log.info(
      { jobId: spec.jobId, type: body.type, webhook: body.notificationsURL !== undefined },
      'remote job started',
    );
    return { jobId: spec.jobId };
  },
);
