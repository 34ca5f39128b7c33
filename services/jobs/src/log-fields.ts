/**
 * Reading the free-form parts of a failed job: the text fields of its logs (roboflow-api.md §3.8 gives
 * only their shape) and its `lastNotification` (§8), for the triage's patterns and its evidence lines.
 */
import { redactText, type JobLog, type JobMetadata } from '@rfbatch/shared';

/** Longest evidence line (and notification text) kept. */
export const MAX_LINE = 300;

export function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}
export function num(value: unknown): number | undefined {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

/** Every text of a log that may name its cause, joined. */
export function logText(log: JobLog): string {
  const p = log.payload;
  const parts = [
    log.logType,
    str(p.reason),
    str(p.type),
    str(p.errorType),
    str(p.error_type),
    str(p.message),
    str(p.error),
    str(p.detail),
    str(p.details),
  ];
  if (p.error && typeof p.error === 'object') parts.push(JSON.stringify(p.error));
  return parts.filter((x): x is string => x !== undefined).join(' | ');
}

/** The readable message of a log. */
export function messageOf(log: JobLog): string {
  const p = log.payload;
  return str(p.message) ?? str(p.error) ?? str(p.detail) ?? JSON.stringify(p);
}

/** What a log says, for the evidence: `2026-… [error] processing-00003: <message>`. */
export function evidenceLine(log: JobLog): string {
  const text = messageOf(log);
  const where = log.taskId ?? log.processingStageId;
  const line = `${log.createdAt} [${log.severity}] ${log.logType}${where ? ` ${where}` : ''}: ${text}`;
  return redactText(line.length > MAX_LINE ? `${line.slice(0, MAX_LINE)}…` : line);
}

/** The message of the last notification alone (to tell whether the logs already said it). */
export function notificationMessage(job: JobMetadata | undefined): string | undefined {
  const n = job?.lastNotification;
  return typeof n === 'string' ? n : (str(n?.message) ?? str(n?.error));
}

/** Every text of the last notification that may name the cause, joined. */
export function notificationCauseText(job: JobMetadata | undefined): string | undefined {
  const n = job?.lastNotification;
  if (n === null || n === undefined) return undefined;
  if (typeof n === 'string') return n;
  return (
    [str(n.type), str(n.reason), str(n.message), str(n.error)].filter(Boolean).join(' | ') ||
    JSON.stringify(n).slice(0, MAX_LINE)
  );
}
