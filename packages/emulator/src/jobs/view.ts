/** How job records are served: shape A (`job`), shape B (`jobStatus`, `progress`), stages, tasks, logs. */
import type { JobLog, JobMetadata, JobStageDetails, TaskStatus } from '@rfbatch/shared';
import type { JobRecord, LogRecord, StageRecord, TaskRecord } from '../store.js';

export function jobMetadata(job: JobRecord): JobMetadata {
  return {
    jobId: job.jobId,
    name: job.name,
    jobDefinition: job.definition,
    currentStage: job.currentStage,
    plannedStages: job.plannedStages,
    error: job.error,
    isTerminal: job.isTerminal,
    lastNotification: job.lastNotification,
    createdAt: job.createdAt,
    lastUpdate: job.lastUpdate,
    restartParametersOverride: job.restartParametersOverride,
  };
}

/** Shape B's status word. An aborted job reads as failed. */
export function jobStatus(job: JobRecord): 'pending' | 'processing' | 'completed' | 'failed' {
  if (job.phase === 'completed') return 'completed';
  if (job.phase === 'failed' || job.phase === 'aborted') return 'failed';
  return job.phase === 'pending' ? 'pending' : 'processing';
}

const STAGE_WEIGHT = { processing: 0.9, export: 0.1, compilation: 1 } as const;

function stageProgress(stage: StageRecord): number {
  if (stage.tasks.length === 0) return 0;
  const sum = stage.tasks.reduce((n, t) => n + (t.statusType !== 'info' ? 1 : (t.progress ?? 0)), 0);
  return sum / stage.tasks.length;
}

/** Job-level progress 0–1: processing counts for 90 %, export for 10 % (a TRT job's compilation for all). */
export function jobProgress(job: JobRecord): number {
  if (job.phase === 'completed') return 1;
  let p = 0;
  for (const stage of job.stages) p += STAGE_WEIGHT[stage.name] * stageProgress(stage);
  return Math.round(Math.min(1, p) * 10_000) / 10_000;
}

export function stageDetails(stage: StageRecord): JobStageDetails {
  return {
    processingStageId: stage.stageId,
    processingStageName: stage.name,
    tasksNumber: Math.max(1, stage.tasks.length),
    outputBatches: stage.outputBatches,
    startTimestamp: stage.startTimestamp,
    notification: stage.notification,
    statusType: stage.statusType,
    lastEventTimestamp: stage.lastEventTimestamp,
  };
}

export function taskStatus(task: TaskRecord): TaskStatus {
  return {
    taskId: task.taskId,
    notification: task.notification,
    statusType: task.statusType,
    progress: task.progress,
    eventTimestamp: task.eventTimestamp,
  };
}

export function jobLog(log: LogRecord): JobLog {
  return {
    createdAt: log.createdAt,
    severity: log.severity,
    reportingModule: log.reportingModule,
    logType: log.logType,
    payload: log.payload,
    ...(log.processingStageId ? { processingStageId: log.processingStageId } : {}),
    ...(log.taskId ? { taskId: log.taskId } : {}),
  };
}
