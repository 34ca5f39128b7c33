import type { JobInput, UploadMode } from '@rfbatch/shared';
import { type PlanUnit } from '@rfbatch/shared';

/** The upload job name for a plan's mode. */
export type UnitJobName = 'shard' | 'files' | 'references';
export function unitJobName(mode: UploadMode): UnitJobName {
  return mode === 'shards' ? 'shard' : mode === 'references' ? 'references' : 'files';
}

/** Checkpoint keys (in the run's done-set, kept across attempts of the run). */
export const doneKey = {
  shard: (n: number) => `shard:${n}`,
  group: (n: number) => `group:${n}`,
  chunk: (n: number) => `chunk:${n}`,
  file: (i: number) => `file:${i}`,
};

/** Checkpoint key of a whole unit, so a retry of the run does not even add its job. */
export function unitDoneKey(name: UnitJobName, n: number): string {
  return name === 'shard' ? doneKey.shard(n) : name === 'files' ? doneKey.group(n) : doneKey.chunk(n);
}

/** The payload of a unit's job: ids and a byte range of the manifest, nothing else. */
export function unitPayload(
  name: UnitJobName,
  runId: string,
  attempt: number,
  unit: PlanUnit,
): JobInput<'ingest', 'shard'> | JobInput<'ingest', 'files'> | JobInput<'ingest', 'references'> {
  const base = { runId, attempt, range: unit.range };
  return name === 'shard'
    ? { ...base, shard: unit.n }
    : name === 'files'
      ? { ...base, group: unit.n }
      : { ...base, chunk: unit.n };
}
