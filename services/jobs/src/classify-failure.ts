/**
 * Classifies a failed job from what was read of it: the cause (failure-causes.ts), the log lines that
 * show it, and the restart advice for that cause (restart-advice.ts).
 */
import {
  redactText,
  type FailureClass,
  type JobLog,
  type JobMetadata,
  type JobStageDetails,
  type JobTriage,
  type MediaKind,
} from '@rfbatch/shared';
import { CAUSES, classOf } from './failure-causes.js';
import {
  evidenceLine,
  logText,
  MAX_LINE,
  messageOf,
  notificationCauseText,
  notificationMessage,
} from './log-fields.js';
import { restartAdvice } from './restart-advice.js';

const MAX_EVIDENCE = 5;

export interface TriageInput {
  jobId: string;
  /** The job as last read (definition, restart overrides, last notification). */
  job?: JobMetadata | undefined;
  /** Its logs: error severity first, then warnings (for the failed images). */
  logs: JobLog[];
  logsTruncated?: boolean;
  /** Its stages, for the number of chunks a timeout was split across. */
  stages?: JobStageDetails[] | undefined;
  /** Items in the job's input (the run's expected count), for a timeout estimate. */
  itemCount?: number | undefined;
  media?: MediaKind;
  /** The run, for the retry command in the suggestion. */
  runId?: string | undefined;
  /** Problems met while reading (shown as evidence). */
  readProblems?: string[];
}

/**
 * Classifies a failed job from what was read of it. Pure: the same input gives the same triage.
 * Only error logs (and the last notification) decide the class; warnings supply failed image names.
 */
export function classifyJobFailure(input: TriageInput): JobTriage {
  const errors = input.logs.filter((l) => l.severity === 'error');
  const note = notificationCauseText(input.job);
  const matches = new Map<FailureClass, JobLog[]>();
  for (const log of errors) {
    const cls = classOf(logText(log));
    if (cls) matches.set(cls, [...(matches.get(cls) ?? []), log]);
  }
  const noteClass = note ? classOf(note) : undefined;
  const cls: FailureClass =
    CAUSES.find((c) => matches.has(c.class) || noteClass === c.class)?.class ?? 'unknown';

  const shown = cls === 'unknown' ? errors : (matches.get(cls) ?? []);
  // One line per distinct message: a task's error and the job's error often repeat each other.
  const messages = new Set<string>();
  const evidence: string[] = [];
  for (const log of shown) {
    if (messages.has(messageOf(log)) || evidence.length >= MAX_EVIDENCE) continue;
    messages.add(messageOf(log));
    evidence.push(evidenceLine(log));
  }
  const noteMessage = notificationMessage(input.job);
  const noteNew = noteMessage === undefined || !messages.has(noteMessage);
  if (note && noteNew && (cls === 'unknown' || noteClass === cls) && evidence.length < MAX_EVIDENCE) {
    evidence.push(redactText(`last notification: ${note.slice(0, MAX_LINE)}`));
  }
  evidence.push(...(input.readProblems ?? []).map(redactText));
  if (evidence.length === 0) evidence.push('(the job reported no error logs and no notification text)');

  const base = { evidence, logsRead: input.logs.length, logsTruncated: input.logsTruncated ?? false };
  const advice = restartAdvice(cls, {
    jobId: input.jobId,
    runId: input.runId,
    job: input.job,
    logs: input.logs,
    errors,
    shown,
    note,
    tasks: input.stages?.find((s) => s.processingStageName === 'processing')?.tasksNumber,
    itemCount: input.itemCount,
    media: input.media,
  });
  return { class: cls, ...base, ...advice };
}
