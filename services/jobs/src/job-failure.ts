/**
 * The run error of a failed remote job: a message with its last notification and first error lines,
 * and the triage — both from one read of the job (failed-job-read.ts), so its logs are listed once.
 */
import {
  redactText,
  type JobLog,
  type JobMetadata,
  type JobTriage,
  type RoboflowClient,
} from '@rfbatch/shared';
import { readFailedJob, type FailedJobRead } from './failed-job-read.js';
import { triageOf, type TriageOptions } from './triage.js';

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
 * Why a remote job failed, for the run error: its last notification and its first error log lines,
 * from the logs already read. Logs that could not be read are said so; the failure is still reported
 * with what is known.
 */
export function describeJobFailure(
  jobId: string,
  meta: JobMetadata | undefined,
  read: Pick<FailedJobRead, 'logs' | 'errorLogsFailure'>,
  maxLines: number,
): { message: string; logLines: string[] } {
  const note = notificationText(meta?.lastNotification);
  const lines: string[] = [];
  const seen = new Set<string>();
  let enough = false;
  for (const log of read.logs) {
    if (log.severity !== 'error') continue;
    const text = logText(log);
    // The notification usually repeats the first error; say each thing once.
    if (seen.has(text) || (note !== undefined && note.includes(text))) continue;
    seen.add(text);
    lines.push(`${log.reportingModule}: ${text}`);
    if (lines.length >= maxLines) {
      enough = true;
      break;
    }
  }
  // Logs that failed to read after enough lines were found do not matter to the message.
  if (read.errorLogsFailure && !enough) {
    const { error } = read.errorLogsFailure;
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

/**
 * Reads a failed job once and gives both the run error's message (at most `maxLines` error lines)
 * and its triage. Reading problems never throw.
 */
export async function explainJobFailure(
  client: RoboflowClient,
  jobId: string,
  options: TriageOptions & { maxLines: number },
): Promise<{ message: string; logLines: string[]; triage: JobTriage }> {
  const read = await readFailedJob(client, jobId, options);
  const { message, logLines } = describeJobFailure(jobId, options.job, read, options.maxLines);
  return { message, logLines, triage: triageOf(jobId, read, options) };
}
