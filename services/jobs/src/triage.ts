/**
 * Failure triage: why a remote job failed, the log lines that show it, and what to restart it with.
 * The job is read by failed-job-read.ts, classified by classify-failure.ts; the failed images are
 * named by their source files here.
 */
import {
  ManifestEntry,
  readJsonLines,
  type JobTriage,
  type MediaKind,
  type RoboflowClient,
} from '@rfbatch/shared';
import { classifyJobFailure } from './classify-failure.js';
import { readFailedJob, type FailedJobRead, type ReadFailedJobOptions } from './failed-job-read.js';

export interface TriageOptions extends ReadFailedJobOptions {
  itemCount?: number | undefined;
  media?: MediaKind;
  runId?: string | undefined;
}

/** The triage of a failed job already read. */
export function triageOf(jobId: string, read: FailedJobRead, options: TriageOptions = {}): JobTriage {
  return classifyJobFailure({
    jobId,
    job: read.job,
    logs: read.logs,
    logsTruncated: read.logsTruncated,
    stages: read.stages,
    itemCount: options.itemCount,
    ...(options.media ? { media: options.media } : {}),
    runId: options.runId,
    readProblems: read.readProblems,
  });
}

/**
 * Reads a failed job (its metadata, all pages of its error logs, then its warning logs, and its
 * stages) and classifies it. Reading problems never throw: the triage says what could not be read.
 */
export async function triageJobFailure(
  client: RoboflowClient,
  jobId: string,
  options: TriageOptions = {},
): Promise<JobTriage> {
  return triageOf(jobId, await readFailedJob(client, jobId, options), options);
}

/**
 * Names the source file of each failed image from the run's manifest (remote name → source path),
 * reading it once and stopping when every name is found. A missing manifest leaves the triage as it is.
 */
export async function withSources(triage: JobTriage, manifestPath: string): Promise<JobTriage> {
  if (!triage.failedImages?.length) return triage;
  const wanted = new Set(triage.failedImages.map((f) => f.name));
  const found = new Map<string, string>();
  try {
    for await (const entry of readJsonLines(manifestPath, ManifestEntry)) {
      if (!wanted.has(entry.name)) continue;
      found.set(entry.name, entry.source);
      if (found.size === wanted.size) break;
    }
  } catch {
    return triage; // no manifest here (another host's work dir): the names alone
  }
  return {
    ...triage,
    failedImages: triage.failedImages.map((f) =>
      found.has(f.name) ? { ...f, source: found.get(f.name) } : f,
    ),
  };
}
