/**
 * What a plan implies before anything is uploaded: skipped files, too many videos for one batch,
 * webhooks the API will not send for this upload mode, and a processing timeout below the estimate.
 */
import type { ResolvedRunSpec } from '@rfbatch/shared';
import type { PreflightCheck, PreflightIssue, PreflightPlan } from './preflight-report.schema.js';

/** Videos the API suggests at most per batch (the official client's SUGGESTED_MAX_VIDEOS_IN_BATCH). */
export const SUGGESTED_MAX_VIDEOS_IN_BATCH = 1_000;

export function planWarnings(spec: ResolvedRunSpec, plan: PreflightPlan): PreflightIssue[] {
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

export function webhookCheck(plan: PreflightPlan): PreflightCheck {
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

export function timeoutCheck(plan: PreflightPlan): PreflightCheck {
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
