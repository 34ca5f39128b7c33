/** A job's own log (`GET /jobs/{id}/logs`) and its `lastUpdate` stamp. */
import { nowIso } from '../clock.js';
import type { Deps } from '../context.js';
import type { JobRecord, LogRecord } from '../store.js';

const MAX_LOGS_PER_JOB = 10_000;
const REPORTING_MODULE = 'batch-processing-emulator';

/** Appends one log entry (dropped once the job has `MAX_LOGS_PER_JOB`). */
export function appendLog(
  deps: Deps,
  job: JobRecord,
  severity: LogRecord['severity'],
  logType: string,
  payload: Record<string, unknown>,
  stageId?: string,
  taskId?: string,
): void {
  if (job.logs.length >= MAX_LOGS_PER_JOB) return;
  job.logs.push({
    createdAt: nowIso(deps.clock),
    severity,
    reportingModule: REPORTING_MODULE,
    logType,
    payload,
    ...(stageId ? { processingStageId: stageId } : {}),
    ...(taskId ? { taskId } : {}),
  });
}

/** Marks the job updated now and schedules a save. */
export function touch(deps: Deps, job: JobRecord): void {
  job.lastUpdate = nowIso(deps.clock);
  deps.store.changed();
}
