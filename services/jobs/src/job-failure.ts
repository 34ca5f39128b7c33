import { redactText, type JobLog, type JobMetadata, type RoboflowClient } from '@rfbatch/shared';

/** The readable part of a job's free-form `lastNotification` (roboflow-api.md §8). */
export function notificationText(notification: JobMetadata['lastNotification']): string | undefined {
  if (notification === null || notification === undefined) return undefined;
  if (typeof notification === 'string') return notification;
  const message = notification.message ?? notification.error ?? notification.reason;
  if (typeof message === 'string') return message;
  return JSON.stringify(notification).slice(0, 300);
}

function logText(log: JobLog): string {
  const payload = log.payload;
  const text =
    typeof payload.message === 'string'
      ? payload.message
      : typeof payload.error === 'string'
        ? payload.error
        : JSON.stringify(payload);
  return text.slice(0, 300);
}

/**
 * Why a remote job failed, for the run error: its last notification and its first error log lines.
 * Reading the logs may fail; the failure is still reported with what is known.
 */
export async function describeJobFailure(
  client: RoboflowClient,
  jobId: string,
  meta: JobMetadata | undefined,
  maxLines: number,
): Promise<{ message: string; logLines: string[] }> {
  const note = notificationText(meta?.lastNotification);
  const lines: string[] = [];
  const seen = new Set<string>();
  try {
    for await (const log of client.listLogs(jobId, { severity: 'error' })) {
      if (log.severity !== 'error') continue;
      const text = logText(log);
      // The notification usually repeats the first error; say each thing once.
      if (seen.has(text) || (note !== undefined && note.includes(text))) continue;
      seen.add(text);
      lines.push(`${log.reportingModule}: ${text}`);
      if (lines.length >= maxLines) break;
    }
  } catch (error) {
    lines.push(
      `(the job's logs could not be read: ${error instanceof Error ? error.message : String(error)})`,
    );
  }
  const stage = meta?.currentStage ? ` in stage "${meta.currentStage}"` : '';
  const parts = [`remote job "${jobId}" failed${stage}`];
  if (note) parts.push(`last notification: ${note}`);
  if (lines.length) parts.push(`first errors: ${lines.join(' | ')}`);
  return { message: redactText(parts.join('; ')), logLines: lines };
}
