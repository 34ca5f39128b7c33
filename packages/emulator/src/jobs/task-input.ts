/** What a task reads: the items of its shard, of its range of a simple batch, or nothing (export). */
import type { Deps } from '../context.js';
import type { ItemRecord, TaskRecord } from '../store.js';
import { JobFailed } from './task-failure.js';

/** A task whose input shard or batch has expired (or was deleted) cannot run. */
export function checkInput(deps: Deps, task: TaskRecord): void {
  const { state } = deps.store;
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

export async function itemsOf(deps: Deps, task: TaskRecord): Promise<ItemRecord[]> {
  const input = task.input;
  if ('shardId' in input) return deps.store.shardItemsOf(input.shardId);
  if ('batchId' in input) {
    const batch = deps.store.state.batches[input.batchId];
    const all = (batch?.items ?? []).filter(
      (i) => input.partName === undefined || i.partName === input.partName,
    );
    return all.slice(input.start, input.end);
  }
  return [];
}
