/**
 * Reads a failed job once — its metadata, all pages of its error logs, then its warning logs, and its
 * stages — for both the run error's message (job-failure.ts) and the triage (triage.ts).
 */
import {
  describeError,
  type JobLog,
  type JobMetadata,
  type JobStageDetails,
  type RoboflowClient,
} from '@rfbatch/shared';

export interface FailedJobRead {
  job: JobMetadata | undefined;
  /** Error logs first, then warnings, at most `maxLogsPerSeverity` of each. */
  logs: JobLog[];
  logsTruncated: boolean;
  stages: JobStageDetails[] | undefined;
  /** What could not be read, as the triage's evidence shows it. */
  readProblems: string[];
  /** Why reading the error logs stopped early, when it did (the logs read before are kept). */
  errorLogsFailure?: { error: unknown };
}

export interface ReadFailedJobOptions {
  /** The job as just read (saves a request). */
  job?: JobMetadata | undefined;
  /** Most log lines read per severity (errors first, then warnings). @defaultValue 2_000 */
  maxLogsPerSeverity?: number;
}

/** Reading problems never throw: the result says what could not be read. */
export async function readFailedJob(
  client: RoboflowClient,
  jobId: string,
  options: ReadFailedJobOptions = {},
): Promise<FailedJobRead> {
  const cap = options.maxLogsPerSeverity ?? 2_000;
  const readProblems: string[] = [];
  let errorLogsFailure: FailedJobRead['errorLogsFailure'];
  let job = options.job;
  if (!job) {
    try {
      job = (await client.getJob(jobId)).job;
    } catch (error) {
      readProblems.push(`(the job could not be read: ${describeError(error)})`);
    }
  }
  const logs: JobLog[] = [];
  let truncated = false;
  for (const severity of ['error', 'warning'] as const) {
    let n = 0;
    try {
      for await (const log of client.listLogs(jobId, { severity })) {
        // A server that ignores the filter still gets each line read once, under its own severity.
        if (log.severity !== severity) continue;
        if (n++ >= cap) {
          truncated = true;
          break;
        }
        logs.push(log);
      }
    } catch (error) {
      readProblems.push(`(the job's ${severity} logs could not be read: ${describeError(error)})`);
      if (severity === 'error') errorLogsFailure = { error };
    }
  }
  let stages: JobStageDetails[] | undefined;
  try {
    stages = await client.listStages(jobId);
  } catch {
    stages = undefined; // only refines a timeout estimate
  }
  return {
    job,
    logs,
    logsTruncated: truncated,
    stages,
    readProblems,
    ...(errorLogsFailure ? { errorLogsFailure } : {}),
  };
}
