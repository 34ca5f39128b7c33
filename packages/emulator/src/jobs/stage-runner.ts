/**
 * The two stages of a job. `processing` plans one task per visible input shard (or per 100 items of a
 * simple batch), `export` one per processing result; tasks run `maxParallelTasks` at a time, and the
 * stage fails with its first failed task.
 */
import { nowIso } from '../clock.js';
import type { Deps } from '../context.js';
import { ensureOutputBatch, visibleShards } from '../staging/batches.js';
import type { JobFailureReason, JobRecord, StageRecord, TaskRecord } from '../store.js';
import { runExportTask } from './export-task.js';
import { appendLog, touch } from './job-log.js';
import type { JobRun } from './job-run.js';
import { effectiveSetting, jobSpec, resultFormat } from './job-settings.js';
import { runProcessingTask } from './processing-task.js';
import { JobFailed } from './task-failure.js';
import { newTask } from './task-records.js';

export type StageName = StageRecord['name'];

const ITEMS_PER_SIMPLE_TASK = 100;
const DEFAULT_PARALLEL_TASKS = 4;
const MAX_PARALLEL_TASKS = 8;

/** Runs the stage's unfinished tasks (planning the stage first if this run has not); throws `JobFailed`. */
export async function runStage(run: JobRun, name: StageName): Promise<void> {
  const { deps, job } = run;
  const stage = job.stages.find((s) => s.name === name) ?? planStage(deps, job, name);
  job.currentStage = name;
  job.lastNotification = { type: 'stage-started', message: `Stage ${name} running`, stage: name };
  touch(deps, job);
  const parallel = Math.min(
    MAX_PARALLEL_TASKS,
    Math.max(1, effectiveSetting(job, 'maxParallelTasks') ?? DEFAULT_PARALLEL_TASKS),
  );
  const todo = stage.tasks.filter((t) => t.statusType !== 'success');
  let next = 0;
  const worker = async () => {
    while (next < todo.length && run.alive()) {
      const task = todo[next++] as TaskRecord;
      await (name === 'processing' ? runProcessingTask(run, stage, task) : runExportTask(run, stage, task));
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  if (!run.alive()) return;
  const failed = stage.tasks.filter((t) => t.statusType === 'error');
  stage.lastEventTimestamp = nowIso(deps.clock);
  if (failed.length) {
    stage.statusType = 'error';
    stage.notification = {
      type: 'stage-failed',
      message: `${failed.length} of ${stage.tasks.length} tasks failed`,
    };
    const first = failed[0] as TaskRecord;
    const reason = (first.notification.reason as JobFailureReason | undefined) ?? 'image-failures';
    throw new JobFailed(reason, String(first.notification.message ?? `stage ${name} failed`), first.taskId);
  }
  stage.statusType = 'success';
  stage.notification = {
    type: 'stage-completed',
    message: `Stage ${name} completed`,
    tasks: stage.tasks.length,
  };
  appendLog(
    deps,
    job,
    'info',
    'stage-completed',
    { message: `Stage ${name} completed`, tasks: stage.tasks.length },
    stage.stageId,
  );
  touch(deps, job);
}

/** Records the stage, its output batch and its tasks. */
function planStage(deps: Deps, job: JobRecord, name: StageName): StageRecord {
  const now = nowIso(deps.clock);
  const outputBatch = `${job.jobId}-${name}`;
  const persist = jobSpec(job).processingSpecification.persistImagesOutputs === true;
  ensureOutputBatch(
    deps,
    outputBatch,
    `${job.name} (${name})`,
    name === 'processing'
      ? {
          partName: 'results',
          partType: 'simple-part',
          contentType: 'metadata',
          partDescription: `Workflow results (${resultFormat(job).toUpperCase()}), one file per task`,
        }
      : {
          partName: 'results',
          partType: 'simple-part',
          contentType: 'archives',
          nestedContentType: persist ? 'mixed' : 'metadata',
          partDescription: `Export archives (.tar.gz) of the results${persist ? ' and input images' : ''}`,
        },
  );
  const tasks: TaskRecord[] = [];
  const add = (input: TaskRecord['input'], itemsTotal: number) =>
    tasks.push(
      newTask(deps.clock, `${name}-${String(tasks.length + 1).padStart(5, '0')}`, input, itemsTotal),
    );
  if (name === 'processing') {
    const { batchId, partName } = jobSpec(job).jobInput;
    const batch = deps.store.state.batches[batchId];
    if (!batch) throw new JobFailed('input-error', `Input batch "${batchId}" not found`);
    if (batch.batchType === 'sharded-batch') {
      for (const shard of visibleShards(deps, batch)) add({ shardId: shard.shardId }, shard.objectsCount);
    } else {
      const count = batch.items.filter((i) => partName === undefined || i.partName === partName).length;
      for (let start = 0; start < count; start += ITEMS_PER_SIMPLE_TASK) {
        const end = Math.min(count, start + ITEMS_PER_SIMPLE_TASK);
        add({ batchId, start, end, ...(partName !== undefined ? { partName } : {}) }, end - start);
      }
    }
    if (tasks.length === 0) add({ batchId, start: 0, end: 0 }, 0);
  } else {
    const processing = job.stages.find((s) => s.name === 'processing');
    for (const t of processing?.tasks ?? []) add({ outputFile: `${t.taskId}.${resultFormat(job)}` }, 1);
  }
  const stage: StageRecord = {
    stageId: name,
    name,
    tasks,
    outputBatches: [outputBatch],
    startTimestamp: now,
    lastEventTimestamp: now,
    statusType: 'info',
    notification: { type: 'stage-started', message: `Stage ${name} started with ${tasks.length} tasks` },
  };
  job.stages.push(stage);
  appendLog(
    deps,
    job,
    'info',
    'stage-started',
    { message: `Stage ${name} started`, tasks: tasks.length, outputBatch },
    stage.stageId,
  );
  touch(deps, job);
  return stage;
}
