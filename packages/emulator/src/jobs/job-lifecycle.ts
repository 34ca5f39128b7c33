/**
 * Runs jobs: pending → `processing` → `export` → terminal, then the job webhook (stage-runner.ts has the
 * stages). Every step is recorded in the state, so a restarted emulator resumes where it stopped;
 * abort/restart bump `generation`, which makes a stale run stop at its next item.
 */
import type { RestartOverrides } from '@rfbatch/shared';
import { nowIso } from '../clock.js';
import type { Deps, JobControl } from '../context.js';
import { jobPayload } from '../staging/notifications.js';
import type { JobRecord } from '../store.js';
import { appendLog, touch } from './job-log.js';
import type { JobRun } from './job-run.js';
import { jobSpec, trtSpec } from './job-settings.js';
import { Sleepers } from './sleepers.js';
import { runStage } from './stage-runner.js';
import { runCompilation } from './trt-compilation.js';
import { JobFailed } from './task-failure.js';
import { resetTask } from './task-records.js';

export class JobEngine implements JobControl {
  private readonly running = new Map<string, Promise<void>>();
  /** Items processed per job in this launch: simulated machine time, for `processingTimeoutSeconds`. */
  private readonly machineItems = new Map<string, number>();
  private readonly sleepers: Sleepers;
  private closed = false;

  constructor(private readonly deps: Deps) {
    this.sleepers = new Sleepers(deps.clock);
  }

  /** Records a new job (already validated) and starts it. */
  create(jobId: string, name: string, definition: Record<string, unknown>, definitionKey: string): JobRecord {
    const now = nowIso(this.deps.clock);
    const faults = this.deps.faults.get();
    const trt = definition.type === 'trt-compilation-v1';
    const job: JobRecord = {
      jobId,
      name,
      definition,
      definitionKey,
      createdAt: now,
      lastUpdate: now,
      phase: 'pending',
      currentStage: null,
      plannedStages: trt ? ['compilation'] : ['processing', 'export'],
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
    const trtJob = trtSpec(job);
    appendLog(this.deps, job, 'info', 'job-accepted', {
      message: `Job ${jobId} accepted`,
      ...(trtJob ? { modelId: trtJob.modelId } : { inputBatch: jobSpec(job).jobInput.batchId }),
    });
    this.launch(job);
    return job;
  }

  abort(job: JobRecord): void {
    if (job.isTerminal) return;
    job.generation += 1;
    const now = nowIso(this.deps.clock);
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
    appendLog(this.deps, job, 'warning', 'job-aborted', { message: 'Job aborted by user request' });
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
    job.phase = failedStage
      ? failedStage.name
      : job.stages.length === 0
        ? 'pending'
        : trtSpec(job)
          ? 'compilation'
          : 'export';
    if (failedStage) {
      failedStage.statusType = 'info';
      failedStage.notification = { type: 'stage-restarted', message: 'Stage restarted' };
      for (const task of failedStage.tasks)
        if (task.statusType !== 'success') resetTask(this.deps.clock, task);
    }
    job.lastNotification = { type: 'job-restarted', message: 'Job restarted', overrides: overrides ?? null };
    touch(this.deps, job);
    appendLog(this.deps, job, 'info', 'job-restarted', {
      message: 'Job restarted',
      overrides: overrides ?? null,
    });
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
        for (const task of stage.tasks) if (task.statusType === 'info') resetTask(this.deps.clock, task);
      this.launch(job);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.sleepers.wakeAll();
    await Promise.allSettled([...this.running.values()]);
  }

  private launch(job: JobRecord): void {
    const generation = job.generation;
    this.machineItems.delete(job.jobId);
    const run: JobRun = {
      deps: this.deps,
      job,
      alive: () => this.alive(job, generation),
      sleep: (ms) => this.sleepers.sleep(ms),
      countMachineItem: () => {
        const items = (this.machineItems.get(job.jobId) ?? 0) + 1;
        this.machineItems.set(job.jobId, items);
        return items;
      },
    };
    const running = this.run(run)
      .catch((err: unknown) => {
        if (!run.alive()) return;
        if (err instanceof JobFailed) return this.fail(job, err);
        this.deps.logger.error({ err, jobId: job.jobId }, 'job run crashed');
        return this.fail(job, new JobFailed('workflow-error', `Internal error: ${(err as Error).message}`));
      })
      .finally(() => {
        if (this.running.get(job.jobId) === running) this.running.delete(job.jobId);
      });
    this.running.set(job.jobId, running);
  }

  private alive(job: JobRecord, generation: number): boolean {
    return !this.closed && job.generation === generation && !job.isTerminal;
  }

  private async run(run: JobRun): Promise<void> {
    const { job } = run;
    if (job.phase === 'pending') {
      await run.sleep(this.deps.options.jobStartDelayMs);
      if (!run.alive()) return;
      job.phase = trtSpec(job) ? 'compilation' : 'processing';
    }
    if (job.phase === 'compilation') {
      await runCompilation(run);
      if (!run.alive()) return;
      this.terminal(job, 'completed', { type: 'job-completed', message: 'TRT compilation completed' });
      appendLog(this.deps, job, 'info', 'job-completed', { message: 'TRT compilation completed' });
      return;
    }
    if (job.phase === 'processing') {
      await runStage(run, 'processing');
      if (!run.alive()) return;
      job.phase = 'export';
    }
    if (job.phase === 'export') {
      await runStage(run, 'export');
      if (!run.alive()) return;
    }
    const batches = job.stages.flatMap((s) => s.outputBatches);
    this.terminal(job, 'completed', {
      type: 'job-completed',
      message: 'Job completed successfully',
      resultsBatches: batches,
    });
    appendLog(this.deps, job, 'info', 'job-completed', {
      message: 'Job completed successfully',
      outputBatches: batches,
    });
  }

  private fail(job: JobRecord, err: JobFailed): void {
    const stage = job.stages.find((s) => s.name === job.currentStage);
    if (stage && stage.statusType === 'info') {
      stage.statusType = 'error';
      stage.notification = { type: 'stage-failed', message: err.message };
    }
    if (err.reason === 'input-error')
      appendLog(this.deps, job, 'error', 'input-error', { message: err.message });
    this.terminal(job, 'failed', {
      type: 'job-failed',
      reason: err.reason,
      message: err.message,
      ...(err.taskId ? { taskId: err.taskId } : {}),
    });
    appendLog(this.deps, job, 'error', 'job-failed', { message: err.message, reason: err.reason });
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
    touch(this.deps, job);
    this.notify(job);
  }

  private notify(job: JobRecord): void {
    job.notified = true;
    const url = (trtSpec(job) ?? jobSpec(job)).notificationsURL;
    if (url) this.deps.webhooks.send(url, jobPayload(job.jobId, job.phase === 'completed'));
    this.deps.store.changed();
  }
}
