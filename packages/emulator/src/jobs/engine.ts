/**
 * Runs jobs: pending → `processing` (one task per input shard, or per 100 items of a simple batch; real
 * per-item work, results as JSONL/CSV parts of `<job>-processing`) → `export` (one `.tar.gz` per
 * processing result, in `<job>-export`) → terminal, then the job webhook. Every step is recorded in the
 * state, so a restarted emulator resumes where it stopped; abort/restart bump `generation`, which makes
 * a stale loop stop at its next item.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import type { JobBody, RestartOverrides } from '@rfbatch/shared';
import { nowIso, type Deps } from '../context.js';
import { analyseImage, videoFrameRecords, type ResultRecord } from '../processing/analyse.js';
import { writeExportArchive, type ArchiveMember, type MaliciousKind } from '../processing/export-archive.js';
import { csvHeader, formatRecord, type AggregationFormat } from '../processing/records.js';
import { ensureOutputBatch, visibleShards } from '../staging/batches.js';
import { jobPayload } from '../staging/notifications.js';
import type {
  ItemRecord,
  JobFailureReason,
  JobRecord,
  LogRecord,
  StageRecord,
  TaskRecord,
} from '../store.js';

const ITEMS_PER_SIMPLE_TASK = 100;
/** Without `maxImageFailureRate`, a task fails when more than this many images fail (roboflow-api.md §4). */
const DEFAULT_MAX_FAILED_IMAGES = 10;
const MAX_LOGS_PER_JOB = 10_000;
const MAX_FAILED_IMAGE_LOGS_PER_TASK = 20;
const REPORTING_MODULE = 'batch-processing-emulator';
/** Workers per machine assumed when a job sets none (for the `memoryLimitWorkers` fault). */
const DEFAULT_WORKERS_PER_MACHINE = 4;

class JobFailed extends Error {
  constructor(
    readonly reason: JobFailureReason | 'input-error',
    message: string,
    readonly taskId?: string,
  ) {
    super(message);
  }
}

export class JobEngine {
  private readonly running = new Map<string, Promise<void>>();
  /** Items processed per job in this run: simulated machine time, for `processingTimeoutSeconds`. */
  private readonly machineItems = new Map<string, number>();
  private readonly sleepers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private closed = false;

  constructor(private readonly deps: Deps) {}

  /** Records a new job (already validated) and starts it. */
  create(jobId: string, name: string, definition: Record<string, unknown>, definitionKey: string): JobRecord {
    const now = nowIso();
    const faults = this.deps.faults.get();
    const job: JobRecord = {
      jobId,
      name,
      definition,
      definitionKey,
      createdAt: now,
      lastUpdate: now,
      phase: 'pending',
      currentStage: null,
      plannedStages: ['processing', 'export'],
      error: false,
      isTerminal: false,
      lastNotification: { type: 'job-accepted', message: 'Job accepted; waiting for compute' },
      restartParametersOverride: [],
      stages: [],
      logs: [],
      generation: 1,
      injectedFailure: faults.jobFailure,
      injectedExport: faults.maliciousExport,
      notified: false,
    };
    this.deps.store.state.jobs[jobId] = job;
    this.log(job, 'info', 'job-accepted', {
      message: `Job ${jobId} accepted`,
      inputBatch: this.spec(job).jobInput.batchId,
    });
    this.launch(job);
    return job;
  }

  abort(job: JobRecord): void {
    if (job.isTerminal) return;
    job.generation += 1;
    const now = nowIso();
    for (const stage of job.stages) {
      for (const task of stage.tasks) {
        if (task.statusType === 'info') {
          task.statusType = 'error';
          task.notification = { type: 'task-aborted', message: 'Task aborted with the job' };
          task.eventTimestamp = now;
        }
      }
      if (stage.statusType === 'info') {
        stage.statusType = 'error';
        stage.notification = { type: 'stage-aborted', message: 'Stage aborted with the job' };
        stage.lastEventTimestamp = now;
      }
    }
    this.terminal(job, 'aborted', { type: 'job-aborted', message: 'Job aborted by user request' });
    this.log(job, 'warning', 'job-aborted', { message: 'Job aborted by user request' });
  }

  restart(job: JobRecord, overrides: RestartOverrides | undefined): void {
    job.generation += 1;
    if (overrides) job.restartParametersOverride.push({ ...overrides });
    const faults = this.deps.faults.get();
    job.injectedFailure = faults.jobFailure;
    job.injectedExport = faults.maliciousExport;
    job.isTerminal = false;
    job.error = false;
    job.notified = false;
    // Resume at the first stage that did not succeed; its failed tasks run again.
    const failedStage = job.stages.find((s) => s.statusType !== 'success');
    job.phase = failedStage ? failedStage.name : job.stages.length === 0 ? 'pending' : 'export';
    if (failedStage) {
      failedStage.statusType = 'info';
      failedStage.notification = { type: 'stage-restarted', message: 'Stage restarted' };
      for (const task of failedStage.tasks) if (task.statusType !== 'success') resetTask(task);
    }
    job.lastNotification = { type: 'job-restarted', message: 'Job restarted', overrides: overrides ?? null };
    this.touch(job);
    this.log(job, 'info', 'job-restarted', { message: 'Job restarted', overrides: overrides ?? null });
    this.launch(job);
  }

  /** After the emulator restarted: continue every job that was not terminal. */
  resumeAll(): void {
    for (const job of Object.values(this.deps.store.state.jobs)) {
      if (job.isTerminal) {
        if (!job.notified) this.notify(job);
        continue;
      }
      for (const stage of job.stages)
        for (const task of stage.tasks) if (task.statusType === 'info') resetTask(task);
      this.launch(job);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.sleepers) {
      clearTimeout(s.timer);
      s.resolve();
    }
    this.sleepers.clear();
    await Promise.allSettled([...this.running.values()]);
  }

  private launch(job: JobRecord): void {
    const generation = job.generation;
    this.machineItems.delete(job.jobId);
    const run = this.run(job, generation)
      .catch((err: unknown) => {
        if (!this.alive(job, generation)) return;
        if (err instanceof JobFailed) return this.fail(job, err);
        this.deps.logger.error({ err, jobId: job.jobId }, 'job run crashed');
        return this.fail(job, new JobFailed('workflow-error', `Internal error: ${(err as Error).message}`));
      })
      .finally(() => {
        if (this.running.get(job.jobId) === run) this.running.delete(job.jobId);
      });
    this.running.set(job.jobId, run);
  }

  private alive(job: JobRecord, generation: number): boolean {
    return !this.closed && job.generation === generation && !job.isTerminal;
  }

  private async run(job: JobRecord, generation: number): Promise<void> {
    if (job.phase === 'pending') {
      await this.sleep(this.deps.options.jobStartDelayMs);
      if (!this.alive(job, generation)) return;
      job.phase = 'processing';
    }
    if (job.phase === 'processing') {
      await this.runStage(job, generation, 'processing');
      if (!this.alive(job, generation)) return;
      job.phase = 'export';
    }
    if (job.phase === 'export') {
      await this.runStage(job, generation, 'export');
      if (!this.alive(job, generation)) return;
    }
    const batches = job.stages.flatMap((s) => s.outputBatches);
    this.terminal(job, 'completed', {
      type: 'job-completed',
      message: 'Job completed successfully',
      resultsBatches: batches,
    });
    this.log(job, 'info', 'job-completed', { message: 'Job completed successfully', outputBatches: batches });
  }

  private async runStage(job: JobRecord, generation: number, name: 'processing' | 'export'): Promise<void> {
    const stage = job.stages.find((s) => s.name === name) ?? (await this.planStage(job, name));
    job.currentStage = name;
    job.lastNotification = { type: 'stage-started', message: `Stage ${name} running`, stage: name };
    this.touch(job);
    const parallel = Math.min(8, Math.max(1, Number(this.effective(job, 'maxParallelTasks') ?? 4)));
    const todo = stage.tasks.filter((t) => t.statusType !== 'success');
    let next = 0;
    const worker = async () => {
      while (next < todo.length && this.alive(job, generation)) {
        const task = todo[next++] as TaskRecord;
        await (name === 'processing'
          ? this.processingTask(job, generation, stage, task)
          : this.exportTask(job, generation, stage, task));
      }
    };
    await Promise.all(Array.from({ length: parallel }, worker));
    if (!this.alive(job, generation)) return;
    const failed = stage.tasks.filter((t) => t.statusType === 'error');
    stage.lastEventTimestamp = nowIso();
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
    this.log(
      job,
      'info',
      'stage-completed',
      { message: `Stage ${name} completed`, tasks: stage.tasks.length },
      stage.stageId,
    );
    this.touch(job);
  }

  private async planStage(job: JobRecord, name: 'processing' | 'export'): Promise<StageRecord> {
    const now = nowIso();
    const outputBatch = `${job.jobId}-${name}`;
    const persist = this.spec(job).processingSpecification.persistImagesOutputs === true;
    ensureOutputBatch(
      this.deps,
      outputBatch,
      `${job.name} (${name})`,
      name === 'processing'
        ? {
            partName: 'results',
            partType: 'simple-part',
            contentType: 'metadata',
            partDescription: `Workflow results (${this.format(job).toUpperCase()}), one file per task`,
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
      tasks.push(newTask(`${name}-${String(tasks.length + 1).padStart(5, '0')}`, input, itemsTotal));
    if (name === 'processing') {
      const { batchId, partName } = this.spec(job).jobInput;
      const batch = this.deps.store.state.batches[batchId];
      if (!batch) throw new JobFailed('input-error', `Input batch "${batchId}" not found`);
      if (batch.batchType === 'sharded-batch') {
        for (const shard of visibleShards(this.deps, batch))
          add({ shardId: shard.shardId }, shard.objectsCount);
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
      for (const t of processing?.tasks ?? []) add({ outputFile: `${t.taskId}.${this.format(job)}` }, 1);
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
    this.log(
      job,
      'info',
      'stage-started',
      { message: `Stage ${name} started`, tasks: tasks.length, outputBatch },
      stage.stageId,
    );
    this.touch(job);
    return stage;
  }

  private async processingTask(
    job: JobRecord,
    generation: number,
    stage: StageRecord,
    task: TaskRecord,
  ): Promise<void> {
    const spec = this.spec(job);
    const format = this.format(job);
    const video = spec.type === 'simple-video-processing-v1';
    const fps = spec.processingSpecification.maxVideoFPS ?? 1;
    const workflowId = spec.processingSpecification.workflowId;
    this.checkInput(task);
    const items = await this.itemsOf(job, task);
    resetTask(task);
    task.itemsTotal = items.length;
    task.progress = 0;
    const rel = join('jobs', job.jobId, 'processing', `${task.taskId}.${format}`);
    await mkdir(this.deps.store.abs(join('jobs', job.jobId, 'processing')), { recursive: true });
    const out = createWriteStream(this.deps.store.abs(rel));
    const write = async (text: string) => {
      if (!out.write(text)) await once(out, 'drain');
    };
    if (format === 'csv') await write(csvHeader());
    const handles = new HandleCache();
    const timeoutS = this.effective(job, 'processingTimeoutSeconds') as number | undefined;
    const outOfMemory = this.outOfMemory(job);
    const injected = outOfMemory
      ? 'oom'
      : job.injectedFailure !== null && stage.tasks[0] === task
        ? job.injectedFailure
        : null;
    const machineSecondsPerItem =
      this.deps.faults.get().machineSecondsPerItem ?? this.deps.options.processingMsPerItem / 1000;
    let pace = 0;
    try {
      for (const item of items) {
        if (!this.alive(job, generation)) return;
        const records: ResultRecord[] = [];
        if (video || item.kind === 'video') {
          const digest = await hashRange(this.deps.store.abs(item.blob), item.offset, item.sizeBytes);
          records.push(...videoFrameRecords(item.fileName, item.sizeBytes, digest, fps, workflowId));
        } else {
          const bytes = await handles.read(this.deps.store.abs(item.blob), item.offset, item.sizeBytes);
          records.push(analyseImage(item.fileName, bytes, workflowId));
        }
        for (const r of records) await write(formatRecord(r, format));
        const failedRecord = records.find((r) => r.error !== null);
        if (failedRecord) {
          task.failures += 1;
          if (task.failures <= MAX_FAILED_IMAGE_LOGS_PER_TASK) {
            this.log(
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
        task.eventTimestamp = nowIso();
        pace += this.deps.options.processingMsPerItem * (video ? records.length / 10 : 1);
        if (pace >= 20) {
          await this.sleep(pace);
          pace = 0;
        } else if (task.itemsDone % 50 === 0) {
          await new Promise((r) => setImmediate(r)); // keep the HTTP side responsive
        }
        if (injected && task.itemsDone >= Math.ceil(task.itemsTotal / 2)) break;
        const machineItems = (this.machineItems.get(job.jobId) ?? 0) + 1;
        this.machineItems.set(job.jobId, machineItems);
        if (timeoutS !== undefined && machineItems * machineSecondsPerItem > timeoutS) {
          return this.taskFailed(job, stage, task, 'timeout', timeoutMessage(task.taskId, timeoutS));
        }
      }
    } finally {
      out.end();
      await once(out, 'close').catch(() => undefined);
      await handles.close();
    }
    if (!this.alive(job, generation)) return;
    if (injected) return this.injectFailure(job, stage, task, injected, timeoutS, items, outOfMemory);
    const rate = this.effective(job, 'maxImageFailureRate') as number | undefined;
    const tooMany =
      rate !== undefined
        ? task.itemsTotal > 0 && task.failures / task.itemsTotal > rate
        : task.failures > DEFAULT_MAX_FAILED_IMAGES;
    if (tooMany) return this.taskFailed(job, stage, task, 'image-failures', imageFailuresMessage(task, rate));
    const batch = this.deps.store.state.batches[`${job.jobId}-processing`];
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
    task.eventTimestamp = nowIso();
    task.notification = {
      type: 'task-completed',
      message: 'Task completed',
      imagesProcessed: task.itemsDone,
      imagesFailed: task.failures,
    };
    this.log(
      job,
      'info',
      'task-completed',
      { items: task.itemsDone, failures: task.failures },
      stage.stageId,
      task.taskId,
    );
    this.touch(job);
  }

  private async exportTask(
    job: JobRecord,
    generation: number,
    stage: StageRecord,
    task: TaskRecord,
  ): Promise<void> {
    if (!('outputFile' in task.input)) return;
    const outputFile = task.input.outputFile;
    const processingBatch = this.deps.store.state.batches[`${job.jobId}-processing`];
    const result = processingBatch?.items.find((i) => i.fileName === outputFile && i.partName === 'results');
    resetTask(task);
    task.progress = 0;
    if (!result) {
      return this.taskFailed(
        job,
        stage,
        task,
        'workflow-error',
        `Export failed: processing result ${outputFile} is missing`,
      );
    }
    const members: ArchiveMember[] = [
      { name: outputFile, path: this.deps.store.abs(result.blob), offset: 0, sizeBytes: result.sizeBytes },
    ];
    if (this.spec(job).processingSpecification.persistImagesOutputs === true) {
      const processingTask = job.stages
        .find((s) => s.name === 'processing')
        ?.tasks.find((t) => `${t.taskId}.${this.format(job)}` === outputFile);
      for (const item of processingTask ? await this.itemsOf(job, processingTask) : []) {
        members.push({
          name: `images/${item.fileName}`,
          path: this.deps.store.abs(item.blob),
          offset: item.offset,
          sizeBytes: item.sizeBytes,
        });
      }
    }
    task.itemsTotal = members.length;
    const index = stage.tasks.indexOf(task) + 1;
    const fileName = `export-${String(index).padStart(5, '0')}.tar.gz`;
    const rel = join('jobs', job.jobId, 'export', fileName);
    await mkdir(this.deps.store.abs(join('jobs', job.jobId, 'export')), { recursive: true });
    const malicious = index === 1 ? (job.injectedExport as MaliciousKind | null) : null;
    const size = await writeExportArchive(this.deps.store.abs(rel), members, malicious, (done) => {
      task.itemsDone = done;
      task.progress = done / members.length;
      task.eventTimestamp = nowIso();
    });
    if (!this.alive(job, generation)) return;
    const batch = this.deps.store.state.batches[`${job.jobId}-export`];
    if (batch) {
      replaceItem(batch.items, {
        fileName,
        contentType: 'application/gzip',
        kind: 'file',
        sizeBytes: size,
        blob: rel,
        offset: 0,
        partName: 'results',
        nestedContentType: members.length > 1 ? 'mixed' : 'metadata',
      });
    }
    task.statusType = 'success';
    task.progress = 1;
    task.eventTimestamp = nowIso();
    task.notification = {
      type: 'task-completed',
      message: 'Archive written',
      archive: fileName,
      members: members.length,
    };
    this.log(
      job,
      'info',
      'task-completed',
      { archive: fileName, members: members.length, sizeBytes: size },
      stage.stageId,
      task.taskId,
    );
    await this.sleep(this.deps.options.processingMsPerItem);
    this.touch(job);
  }

  private injectFailure(
    job: JobRecord,
    stage: StageRecord,
    task: TaskRecord,
    reason: JobFailureReason,
    timeoutS: number | undefined,
    items: ItemRecord[],
    memory: { workers: number; limit: number } | undefined,
  ): void {
    const workflowId = this.spec(job).processingSpecification.workflowId;
    const load = memory
      ? `${memory.workers} workers per machine on a cpu machine need more memory than it has (room for ${memory.limit})`
      : 'the workflow needs more memory than the machine has';
    const messages: Record<JobFailureReason, string> = {
      oom: `Worker for task ${task.taskId} was killed: out of memory (OOMKilled, exit code 137) — ${load}; use a larger machine type or fewer workers per machine`,
      timeout: timeoutMessage(task.taskId, timeoutS ?? 3600),
      'image-failures': imageFailuresMessage(
        { ...task, failures: Math.max(task.failures, task.itemsTotal) },
        this.effective(job, 'maxImageFailureRate') as number | undefined,
      ),
      'workflow-error': `Workflow execution failed in task ${task.taskId}: step "model" of workflow "${workflowId}" raised RuntimeError: injected workflow error`,
    };
    if (reason === 'image-failures') {
      task.failures = Math.max(task.failures, task.itemsTotal);
      for (const item of items.slice(0, MAX_FAILED_IMAGE_LOGS_PER_TASK)) {
        this.log(
          job,
          'warning',
          'image-failed',
          { fileName: item.fileName, message: 'could not decode image: injected failure' },
          stage.stageId,
          task.taskId,
        );
      }
    }
    this.taskFailed(job, stage, task, reason, messages[reason]);
  }

  private taskFailed(
    job: JobRecord,
    stage: StageRecord,
    task: TaskRecord,
    reason: JobFailureReason,
    message: string,
  ): void {
    task.statusType = 'error';
    task.eventTimestamp = nowIso();
    task.notification = {
      type: 'task-failed',
      reason,
      message,
      imagesProcessed: task.itemsDone,
      imagesFailed: task.failures,
    };
    const logType = {
      oom: 'worker-oom',
      timeout: 'processing-timeout',
      'image-failures': 'image-failures',
      'workflow-error': 'workflow-error',
    }[reason];
    this.log(
      job,
      'error',
      logType,
      { message, reason, imagesProcessed: task.itemsDone, imagesFailed: task.failures },
      stage.stageId,
      task.taskId,
    );
    this.touch(job);
  }

  private fail(job: JobRecord, err: JobFailed): void {
    const stage = job.stages.find((s) => s.name === job.currentStage);
    if (stage && stage.statusType === 'info') {
      stage.statusType = 'error';
      stage.notification = { type: 'stage-failed', message: err.message };
    }
    if (err.reason === 'input-error') this.log(job, 'error', 'input-error', { message: err.message });
    this.terminal(job, 'failed', {
      type: 'job-failed',
      reason: err.reason,
      message: err.message,
      ...(err.taskId ? { taskId: err.taskId } : {}),
    });
    this.log(job, 'error', 'job-failed', { message: err.message, reason: err.reason });
  }

  private terminal(
    job: JobRecord,
    phase: 'completed' | 'failed' | 'aborted',
    notification: Record<string, unknown>,
  ): void {
    job.phase = phase;
    job.isTerminal = true;
    job.error = phase !== 'completed';
    job.lastNotification = notification;
    this.touch(job);
    this.notify(job);
  }

  private notify(job: JobRecord): void {
    job.notified = true;
    const url = this.spec(job).notificationsURL;
    if (url) this.deps.webhooks.send(url, jobPayload(job.jobId, job.phase === 'completed'));
    this.deps.store.changed();
  }

  private log(
    job: JobRecord,
    severity: LogRecord['severity'],
    logType: string,
    payload: Record<string, unknown>,
    stageId?: string,
    taskId?: string,
  ): void {
    if (job.logs.length >= MAX_LOGS_PER_JOB) return;
    job.logs.push({
      createdAt: nowIso(),
      severity,
      reportingModule: REPORTING_MODULE,
      logType,
      payload,
      ...(stageId ? { processingStageId: stageId } : {}),
      ...(taskId ? { taskId } : {}),
    });
  }

  private touch(job: JobRecord): void {
    job.lastUpdate = nowIso();
    this.deps.store.changed();
  }

  private spec(job: JobRecord): JobBody {
    return job.definition as unknown as JobBody;
  }

  private format(job: JobRecord): AggregationFormat {
    return this.spec(job).processingSpecification.aggregationFormat ?? 'jsonl';
  }

  /** A setting as overridden by the latest restart that set it, else as defined. */
  private effective(
    job: JobRecord,
    key: 'maxParallelTasks' | 'processingTimeoutSeconds' | 'maxImageFailureRate',
  ): unknown {
    for (let i = job.restartParametersOverride.length - 1; i >= 0; i--) {
      const value = job.restartParametersOverride[i]?.[key];
      if (value !== undefined) return value;
    }
    return (job.definition as Record<string, unknown>)[key];
  }

  /** The compute configuration as defined, with every restart override's fields on top. */
  private effectiveCompute(job: JobRecord): { machineType?: string; workersPerMachine?: number } {
    const out = {
      ...((job.definition as Record<string, unknown>).computeConfiguration as
        Record<string, unknown> | undefined),
    };
    for (const o of job.restartParametersOverride) {
      for (const [k, v] of Object.entries(
        (o.computeConfiguration as Record<string, unknown> | undefined) ?? {},
      ))
        if (v !== undefined) out[k] = v;
    }
    return out as { machineType?: string; workersPerMachine?: number };
  }

  /** The `memoryLimitWorkers` fault: too many workers per cpu machine. */
  private outOfMemory(job: JobRecord): { workers: number; limit: number } | undefined {
    const limit = this.deps.faults.get().memoryLimitWorkers;
    if (limit === null) return undefined;
    const compute = this.effectiveCompute(job);
    const workers = compute.workersPerMachine ?? DEFAULT_WORKERS_PER_MACHINE;
    return compute.machineType !== 'gpu' && workers > limit ? { workers, limit } : undefined;
  }

  /** A task whose input shard or batch has expired (or was deleted) cannot run. */
  private checkInput(task: TaskRecord): void {
    const { state } = this.deps.store;
    const input = task.input;
    const batchId =
      'shardId' in input
        ? state.shards[input.shardId]?.batchId
        : 'batchId' in input
          ? input.batchId
          : undefined;
    const gone =
      'shardId' in input
        ? state.shards[input.shardId] === undefined
        : 'batchId' in input && state.batches[input.batchId] === undefined;
    if (!gone) return;
    const what = 'shardId' in input ? `shard ${input.shardId}` : `batch "${batchId ?? ''}"`;
    throw new JobFailed(
      'input-error',
      `Input data of task ${task.taskId} is gone: ${what} has expired or was deleted`,
      task.taskId,
    );
  }

  private async itemsOf(job: JobRecord, task: TaskRecord): Promise<ItemRecord[]> {
    const input = task.input;
    if ('shardId' in input) return this.deps.store.shardItemsOf(input.shardId);
    if ('batchId' in input) {
      const batch = this.deps.store.state.batches[input.batchId];
      const all = (batch?.items ?? []).filter(
        (i) => input.partName === undefined || i.partName === input.partName,
      );
      return all.slice(input.start, input.end);
    }
    return [];
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const sleeper = {
        timer: setTimeout(() => {
          this.sleepers.delete(sleeper);
          resolve();
        }, ms),
        resolve,
      };
      this.sleepers.add(sleeper);
    });
  }
}

function newTask(taskId: string, input: TaskRecord['input'], itemsTotal: number): TaskRecord {
  return {
    taskId,
    input,
    statusType: 'info',
    progress: null,
    notification: { type: 'task-queued', message: 'Waiting for a worker' },
    eventTimestamp: nowIso(),
    itemsTotal,
    itemsDone: 0,
    failures: 0,
  };
}

function resetTask(task: TaskRecord): void {
  task.statusType = 'info';
  task.progress = null;
  task.itemsDone = 0;
  task.failures = 0;
  task.eventTimestamp = nowIso();
  task.notification = { type: 'task-running', message: 'Task running' };
}

function replaceItem(items: ItemRecord[], item: ItemRecord): void {
  const at = items.findIndex((i) => i.fileName === item.fileName && i.partName === item.partName);
  if (at >= 0) items[at] = item;
  else items.push(item);
}

function timeoutMessage(taskId: string, timeoutS: number): string {
  return `Processing timeout: task ${taskId} exceeded the job's processingTimeoutSeconds of ${timeoutS} s and was stopped; raise processingTimeoutSeconds (restart with an override)`;
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

async function hashRange(path: string, offset: number, size: number): Promise<string> {
  const hash = createHash('sha256');
  if (size > 0)
    for await (const chunk of createReadStream(path, { start: offset, end: offset + size - 1 }))
      hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Keeps the blob file of a shard open across its items. */
class HandleCache {
  private readonly handles = new Map<string, FileHandle>();

  async read(path: string, offset: number, size: number): Promise<Buffer> {
    let handle = this.handles.get(path);
    if (!handle) {
      if (this.handles.size >= 16) await this.close(); // simple batches: one file per item
      handle = await open(path, 'r');
      this.handles.set(path, handle);
    }
    const buf = Buffer.alloc(size);
    let done = 0;
    while (done < size) {
      const { bytesRead } = await handle.read(buf, done, size - done, offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done === size ? buf : buf.subarray(0, done);
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.handles.values()].map((h) => h.close()));
    this.handles.clear();
  }
}
