/**
 * Why tasks fail and what they say: too many image failures, the processing timeout, and the injected
 * faults (a failure reason, or out of memory under `memoryLimitWorkers`), each with its error log.
 */
import { nowIso } from '../clock.js';
import type { Deps } from '../context.js';
import type { ItemRecord, JobFailureReason, JobRecord, StageRecord, TaskRecord } from '../store.js';
import { appendLog, touch } from './job-log.js';
import { effectiveCompute, effectiveSetting, jobSpec } from './job-settings.js';

/** Without `maxImageFailureRate`, a task fails when more than this many images fail (roboflow-api.md §4). */
const DEFAULT_MAX_FAILED_IMAGES = 10;
/** Failed images named in `image-failed` warnings, per task. */
export const MAX_FAILED_IMAGE_LOGS_PER_TASK = 20;
/** Workers per machine assumed when a job sets none (for the `memoryLimitWorkers` fault). */
const DEFAULT_WORKERS_PER_MACHINE = 4;

const LOG_TYPE_OF: Record<JobFailureReason, string> = {
  oom: 'worker-oom',
  timeout: 'processing-timeout',
  'image-failures': 'image-failures',
  'workflow-error': 'workflow-error',
};

/** Ends a job's run: thrown by a stage, caught by the engine, which fails the job with it. */
export class JobFailed extends Error {
  constructor(
    readonly reason: JobFailureReason | 'input-error',
    message: string,
    readonly taskId?: string,
  ) {
    super(message);
  }
}

/** Workers per machine and the fault's limit, when the job's cpu machines run out of memory. */
export type OutOfMemory = { workers: number; limit: number };

/** The `memoryLimitWorkers` fault: too many workers per cpu machine. */
export function outOfMemory(deps: Deps, job: JobRecord): OutOfMemory | undefined {
  const limit = deps.faults.get().memoryLimitWorkers;
  if (limit === null) return undefined;
  const compute = effectiveCompute(job);
  const workers = compute.workersPerMachine ?? DEFAULT_WORKERS_PER_MACHINE;
  return compute.machineType !== 'gpu' && workers > limit ? { workers, limit } : undefined;
}

export function timeoutMessage(taskId: string, timeoutS: number): string {
  return `Processing timeout: task ${taskId} exceeded the job's processingTimeoutSeconds of ${timeoutS} s and was stopped; raise processingTimeoutSeconds (restart with an override)`;
}

/** The message of a task with more failed images than the job allows, or undefined when within it. */
export function tooManyImageFailures(job: JobRecord, task: TaskRecord): string | undefined {
  const rate = effectiveSetting(job, 'maxImageFailureRate');
  const tooMany =
    rate !== undefined
      ? task.itemsTotal > 0 && task.failures / task.itemsTotal > rate
      : task.failures > DEFAULT_MAX_FAILED_IMAGES;
  return tooMany ? imageFailuresMessage(task, rate) : undefined;
}

function imageFailuresMessage(
  task: Pick<TaskRecord, 'taskId' | 'failures' | 'itemsTotal'>,
  rate: number | undefined,
): string {
  const observed = task.itemsTotal > 0 ? (task.failures / task.itemsTotal).toFixed(3) : '0';
  const limit =
    rate !== undefined
      ? `maxImageFailureRate ${rate}`
      : `the default limit of ${DEFAULT_MAX_FAILED_IMAGES} failed images per task`;
  return `Too many image failures in task ${task.taskId}: ${task.failures} of ${task.itemsTotal} images failed (rate ${observed}), above ${limit}`;
}

/** Fails a task for an injected reason, with the logs a real failure of that kind leaves. */
export function injectFailure(
  deps: Deps,
  job: JobRecord,
  stage: StageRecord,
  task: TaskRecord,
  reason: JobFailureReason,
  timeoutS: number | undefined,
  items: ItemRecord[],
  memory: OutOfMemory | undefined,
): void {
  const workflowId = jobSpec(job).processingSpecification.workflowId;
  const load = memory
    ? `${memory.workers} workers per machine on a cpu machine need more memory than it has (room for ${memory.limit})`
    : 'the workflow needs more memory than the machine has';
  const messages: Record<JobFailureReason, string> = {
    oom: `Worker for task ${task.taskId} was killed: out of memory (OOMKilled, exit code 137) — ${load}; use a larger machine type or fewer workers per machine`,
    timeout: timeoutMessage(task.taskId, timeoutS ?? 3600),
    'image-failures': imageFailuresMessage(
      { ...task, failures: Math.max(task.failures, task.itemsTotal) },
      effectiveSetting(job, 'maxImageFailureRate'),
    ),
    'workflow-error': `Workflow execution failed in task ${task.taskId}: step "model" of workflow "${workflowId}" raised RuntimeError: injected workflow error`,
  };
  if (reason === 'image-failures') {
    task.failures = Math.max(task.failures, task.itemsTotal);
    for (const item of items.slice(0, MAX_FAILED_IMAGE_LOGS_PER_TASK)) {
      appendLog(
        deps,
        job,
        'warning',
        'image-failed',
        { fileName: item.fileName, message: 'could not decode image: injected failure' },
        stage.stageId,
        task.taskId,
      );
    }
  }
  taskFailed(deps, job, stage, task, reason, messages[reason]);
}

/** Marks a task failed, with its error log. */
export function taskFailed(
  deps: Deps,
  job: JobRecord,
  stage: StageRecord,
  task: TaskRecord,
  reason: JobFailureReason,
  message: string,
): void {
  task.statusType = 'error';
  task.eventTimestamp = nowIso(deps.clock);
  task.notification = {
    type: 'task-failed',
    reason,
    message,
    imagesProcessed: task.itemsDone,
    imagesFailed: task.failures,
  };
  appendLog(
    deps,
    job,
    'error',
    LOG_TYPE_OF[reason],
    { message, reason, imagesProcessed: task.itemsDone, imagesFailed: task.failures },
    stage.stageId,
    task.taskId,
  );
  touch(deps, job);
}
