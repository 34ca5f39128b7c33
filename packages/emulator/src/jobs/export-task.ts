/**
 * An `export` task: packs one processing result (and its input images when `persistImagesOutputs` is
 * set) into a `.tar.gz` in `<job>-export`; the first archive of a run carries the malicious-export fault.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { nowIso } from '../clock.js';
import { writeExportArchive, type ArchiveMember, type MaliciousKind } from '../processing/export-archive.js';
import type { StageRecord, TaskRecord } from '../store.js';
import { appendLog, touch } from './job-log.js';
import type { JobRun } from './job-run.js';
import { jobSpec, resultFormat } from './job-settings.js';
import { taskFailed } from './task-failure.js';
import { itemsOf } from './task-input.js';
import { replaceItem, resetTask } from './task-records.js';

export async function runExportTask(run: JobRun, stage: StageRecord, task: TaskRecord): Promise<void> {
  const { deps, job } = run;
  if (!('outputFile' in task.input)) return;
  const outputFile = task.input.outputFile;
  const processingBatch = deps.store.state.batches[`${job.jobId}-processing`];
  const result = processingBatch?.items.find((i) => i.fileName === outputFile && i.partName === 'results');
  resetTask(deps.clock, task);
  task.progress = 0;
  if (!result) {
    return taskFailed(
      deps,
      job,
      stage,
      task,
      'workflow-error',
      `Export failed: processing result ${outputFile} is missing`,
    );
  }
  const members: ArchiveMember[] = [
    { name: outputFile, path: deps.store.abs(result.blob), offset: 0, sizeBytes: result.sizeBytes },
  ];
  if (jobSpec(job).processingSpecification.persistImagesOutputs === true) {
    const processingTask = job.stages
      .find((s) => s.name === 'processing')
      ?.tasks.find((t) => `${t.taskId}.${resultFormat(job)}` === outputFile);
    for (const item of processingTask ? await itemsOf(deps, processingTask) : []) {
      members.push({
        name: `images/${item.fileName}`,
        path: deps.store.abs(item.blob),
        offset: item.offset,
        sizeBytes: item.sizeBytes,
      });
    }
  }
  task.itemsTotal = members.length;
  const index = stage.tasks.indexOf(task) + 1;
  const fileName = `export-${String(index).padStart(5, '0')}.tar.gz`;
  const rel = join('jobs', job.jobId, 'export', fileName);
  await mkdir(deps.store.abs(join('jobs', job.jobId, 'export')), { recursive: true });
  const malicious = index === 1 ? (job.injectedExport as MaliciousKind | null) : null;
  const size = await writeExportArchive(deps.store.abs(rel), members, malicious, deps.clock.now(), (done) => {
    task.itemsDone = done;
    task.progress = done / members.length;
    task.eventTimestamp = nowIso(deps.clock);
  });
  if (!run.alive()) return;
  const batch = deps.store.state.batches[`${job.jobId}-export`];
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
  task.eventTimestamp = nowIso(deps.clock);
  task.notification = {
    type: 'task-completed',
    message: 'Archive written',
    archive: fileName,
    members: members.length,
  };
  appendLog(
    deps,
    job,
    'info',
    'task-completed',
    { archive: fileName, members: members.length, sizeBytes: size },
    stage.stageId,
    task.taskId,
  );
  await run.sleep(deps.options.processingMsPerItem);
  touch(deps, job);
}
