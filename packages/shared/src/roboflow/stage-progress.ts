/**
 * A job's progress from its stages' tasks, as the official client computes it for `job-details`: in a
 * stage, each task weighs 1/tasksNumber; a finished task counts whole, a running one by its own 0–1
 * `progress` (null counts as waiting, 0). The job's progress is the mean over its planned stages (a stage
 * not started yet counts 0). Used when the status answer carries no job-level progress (shape A).
 */
import type { JobMetadata, JobStageDetails, TaskStatus } from '../api/jobs.schema.js';

/**
 * A task (or stage) status word that says it ended. The official client reads every word but `info` as
 * ended; rfbatch reads only words that say so, so an unknown word keeps it running (bounded by the caller).
 */
function statusTypeEnded(statusType: string): boolean {
  return /success|error|fail|warning|complete|abort|cancel/i.test(statusType);
}

function clamp01(n: number): number {
  return Math.max(0, Math.min(1, n));
}

function stageProgress(stage: JobStageDetails, tasks: readonly TaskStatus[]): number {
  if (statusTypeEnded(stage.statusType) && !/error|fail/i.test(stage.statusType)) return 1;
  const total = Math.max(stage.tasksNumber, tasks.length, 1);
  let sum = 0;
  for (const task of tasks) {
    const p = task.progress;
    sum += statusTypeEnded(task.statusType)
      ? 1
      : typeof p === 'number' && Number.isFinite(p)
        ? clamp01(p)
        : 0;
  }
  return clamp01(sum / total);
}

/** Mean progress of the job's stages, over `plannedStages` when the job names them. */
export function jobProgressFromStages(
  job: Pick<JobMetadata, 'plannedStages'>,
  stages: readonly { stage: JobStageDetails; tasks: readonly TaskStatus[] }[],
): number | null {
  if (stages.length === 0) return job.plannedStages?.length ? 0 : null;
  const planned = job.plannedStages?.length
    ? job.plannedStages
    : stages.map((s) => s.stage.processingStageName);
  const byName = new Map(stages.map((s) => [s.stage.processingStageName, stageProgress(s.stage, s.tasks)]));
  const count = Math.max(planned.length, byName.size);
  let sum = 0;
  for (const value of byName.values()) sum += value;
  return Math.round(clamp01(sum / count) * 10_000) / 10_000;
}
