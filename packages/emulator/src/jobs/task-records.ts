/** Task records as the stages create, rerun and finish them, and the output items they leave. */
import { nowIso, type Clock } from '../clock.js';
import type { ItemRecord, TaskRecord } from '../store.js';

export function newTask(
  clock: Clock,
  taskId: string,
  input: TaskRecord['input'],
  itemsTotal: number,
): TaskRecord {
  return {
    taskId,
    input,
    statusType: 'info',
    progress: null,
    notification: { type: 'task-queued', message: 'Waiting for a worker' },
    eventTimestamp: nowIso(clock),
    itemsTotal,
    itemsDone: 0,
    failures: 0,
  };
}

/** Back to running with nothing done (a task runs again from its first item). */
export function resetTask(clock: Clock, task: TaskRecord): void {
  task.statusType = 'info';
  task.progress = null;
  task.itemsDone = 0;
  task.failures = 0;
  task.eventTimestamp = nowIso(clock);
  task.notification = { type: 'task-running', message: 'Task running' };
}

/** Adds an output item, replacing one of the same name and part (a rerun task rewrites its file). */
export function replaceItem(items: ItemRecord[], item: ItemRecord): void {
  const at = items.findIndex((i) => i.fileName === item.fileName && i.partName === item.partName);
  if (at >= 0) items[at] = item;
  else items.push(item);
}
