/**
 * The one stage of a TRT compilation job (`trt-compilation-v1`): `compilation`, one task per target
 * device. Nothing is read from staging and no output batch is written: the engines go to the model.
 */
import { DEFAULT_COMPILATION_DEVICES } from '@rfbatch/shared';
import { nowIso } from '../clock.js';
import type { StageRecord } from '../store.js';
import { appendLog, touch } from './job-log.js';
import type { JobRun } from './job-run.js';
import { trtSpec } from './job-settings.js';
import { newTask } from './task-records.js';

/** Simulated compilation time per device, in units of the per-item processing time. */
const ITEMS_PER_DEVICE = 20;

/** Plans (once) and runs the compilation stage; resumes at the first device not compiled yet. */
export async function runCompilation(run: JobRun): Promise<void> {
  const { deps, job } = run;
  const spec = trtSpec(job);
  if (!spec) throw new Error(`job ${job.jobId} is not a TRT compilation job`);
  let stage = job.stages.find((s) => s.name === 'compilation');
  if (!stage) {
    const now = nowIso(deps.clock);
    const devices = spec.compilationDevices ?? DEFAULT_COMPILATION_DEVICES;
    stage = {
      stageId: 'compilation',
      name: 'compilation',
      tasks: devices.map((device, i) =>
        newTask(deps.clock, `compilation-${String(i + 1).padStart(5, '0')}`, { device }, 1),
      ),
      outputBatches: [],
      startTimestamp: now,
      lastEventTimestamp: now,
      statusType: 'info',
      notification: { type: 'stage-started', message: `Compiling ${spec.modelId} for ${devices.join(', ')}` },
    } satisfies StageRecord;
    job.stages.push(stage);
  }
  job.currentStage = 'compilation';
  job.lastNotification = {
    type: 'stage-started',
    message: 'Stage compilation running',
    stage: 'compilation',
  };
  touch(deps, job);
  for (const task of stage.tasks) {
    if (task.statusType === 'success') continue;
    const device = 'device' in task.input ? task.input.device : '?';
    task.progress = 0;
    await run.sleep(deps.options.processingMsPerItem * ITEMS_PER_DEVICE);
    if (!run.alive()) return;
    task.statusType = 'success';
    task.progress = 1;
    task.itemsDone = 1;
    task.eventTimestamp = nowIso(deps.clock);
    task.notification = { type: 'trt-engine-compiled', modelId: spec.modelId, device };
    appendLog(
      deps,
      job,
      'info',
      'trt-engine-compiled',
      { modelId: spec.modelId, device },
      stage.stageId,
      task.taskId,
    );
    touch(deps, job);
  }
  stage.statusType = 'success';
  stage.lastEventTimestamp = nowIso(deps.clock);
  stage.notification = {
    type: 'stage-completed',
    message: 'Stage compilation completed',
    tasks: stage.tasks.length,
  };
  touch(deps, job);
}
