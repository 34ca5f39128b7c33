/**
 * A `processing` task: real per-item work (image header analysis, or frame records of a video) written as
 * one JSONL/CSV results file in `<job>-processing`, at the simulated pace, within the job's limits.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { nowIso } from '../clock.js';
import { analyseImage, videoFrameRecords, type ResultRecord } from '../processing/analyse.js';
import { HandleCache, hashRange } from '../processing/item-bytes.js';
import { csvHeader, formatRecord } from '../processing/records.js';
import type { StageRecord, TaskRecord } from '../store.js';
import { appendLog, touch } from './job-log.js';
import type { JobRun } from './job-run.js';
import { effectiveSetting, jobSpec, resultFormat } from './job-settings.js';
import {
  injectFailure,
  MAX_FAILED_IMAGE_LOGS_PER_TASK,
  outOfMemory,
  taskFailed,
  timeoutMessage,
  tooManyImageFailures,
} from './task-failure.js';
import { checkInput, itemsOf } from './task-input.js';
import { replaceItem, resetTask } from './task-records.js';

/** Simulated time below this is carried over to the next item instead of slept (timers are coarse). */
const MIN_SLEEP_MS = 20;
/** Items between two yields to the HTTP side when no sleep comes. */
const ITEMS_PER_YIELD = 50;

export async function runProcessingTask(run: JobRun, stage: StageRecord, task: TaskRecord): Promise<void> {
  const { deps, job } = run;
  const spec = jobSpec(job);
  const format = resultFormat(job);
  const video = spec.type === 'simple-video-processing-v1';
  const fps = spec.processingSpecification.maxVideoFPS ?? 1;
  const workflowId = spec.processingSpecification.workflowId;
  checkInput(deps, task);
  const items = await itemsOf(deps, task);
  resetTask(deps.clock, task);
  task.itemsTotal = items.length;
  task.progress = 0;
  const rel = join('jobs', job.jobId, 'processing', `${task.taskId}.${format}`);
  await mkdir(deps.store.abs(join('jobs', job.jobId, 'processing')), { recursive: true });
  const out = createWriteStream(deps.store.abs(rel));
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, 'drain');
  };
  if (format === 'csv') await write(csvHeader());
  const handles = new HandleCache();
  const timeoutS = effectiveSetting(job, 'processingTimeoutSeconds');
  const memory = outOfMemory(deps, job);
  // An injected failure (out of memory: every task; the others: the first) stops a task half-way.
  const injected = memory
    ? 'oom'
    : job.injectedFailure !== null && stage.tasks[0] === task
      ? job.injectedFailure
      : null;
  const machineSecondsPerItem =
    deps.faults.get().machineSecondsPerItem ?? deps.options.processingMsPerItem / 1000;
  let pace = 0;
  try {
    for (const item of items) {
      if (!run.alive()) return;
      const records: ResultRecord[] = [];
      if (video || item.kind === 'video') {
        const digest = await hashRange(deps.store.abs(item.blob), item.offset, item.sizeBytes);
        records.push(...videoFrameRecords(item.fileName, item.sizeBytes, digest, fps, workflowId));
      } else {
        const bytes = await handles.read(deps.store.abs(item.blob), item.offset, item.sizeBytes);
        records.push(analyseImage(item.fileName, bytes, workflowId));
      }
      for (const r of records) await write(formatRecord(r, format));
      const failedRecord = records.find((r) => r.error !== null);
      if (failedRecord) {
        task.failures += 1;
        if (task.failures <= MAX_FAILED_IMAGE_LOGS_PER_TASK) {
          appendLog(
            deps,
            job,
            'warning',
            'image-failed',
            { fileName: item.fileName, message: failedRecord.error },
            stage.stageId,
            task.taskId,
          );
        }
      }
      task.itemsDone += 1;
      task.progress = task.itemsDone / Math.max(1, task.itemsTotal);
      task.eventTimestamp = nowIso(deps.clock);
      pace += deps.options.processingMsPerItem * (video ? records.length / 10 : 1);
      if (pace >= MIN_SLEEP_MS) {
        await run.sleep(pace);
        pace = 0;
      } else if (task.itemsDone % ITEMS_PER_YIELD === 0) {
        await new Promise((r) => setImmediate(r)); // keep the HTTP side responsive
      }
      if (injected && task.itemsDone >= Math.ceil(task.itemsTotal / 2)) break;
      const machineItems = run.countMachineItem();
      if (timeoutS !== undefined && machineItems * machineSecondsPerItem > timeoutS) {
        return taskFailed(deps, job, stage, task, 'timeout', timeoutMessage(task.taskId, timeoutS));
      }
    }
  } finally {
    out.end();
    await once(out, 'close').catch(() => undefined);
    await handles.close();
  }
  if (!run.alive()) return;
  if (injected) return injectFailure(deps, job, stage, task, injected, timeoutS, items, memory);
  const tooMany = tooManyImageFailures(job, task);
  if (tooMany) return taskFailed(deps, job, stage, task, 'image-failures', tooMany);
  const batch = deps.store.state.batches[`${job.jobId}-processing`];
  if (batch) {
    replaceItem(batch.items, {
      fileName: `${task.taskId}.${format}`,
      contentType: format === 'csv' ? 'text/csv' : 'application/jsonl',
      kind: 'file',
      sizeBytes: out.bytesWritten,
      blob: rel,
      offset: 0,
      partName: 'results',
    });
  }
  task.statusType = 'success';
  task.progress = 1;
  task.eventTimestamp = nowIso(deps.clock);
  task.notification = {
    type: 'task-completed',
    message: 'Task completed',
    imagesProcessed: task.itemsDone,
    imagesFailed: task.failures,
  };
  appendLog(
    deps,
    job,
    'info',
    'task-completed',
    { items: task.itemsDone, failures: task.failures },
    stage.stageId,
    task.taskId,
  );
  touch(deps, job);
}
