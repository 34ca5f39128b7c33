import { UnrecoverableError, type Job } from 'bullmq';
import {
  catalogEntry,
  zodProblems,
  type JobData,
  type JobName,
  type JobKeptState,
  type QueueName,
} from '@rfbatch/shared';

export interface ParsedJob<Q extends QueueName, N extends JobName<Q>> {
  data: JobData<Q, N>;
  state: JobKeptState<Q, N>;
  /** State keys that were present but did not parse (written by an older version): they read as absent. */
  dropped: string[];
}

/**
 * The one parser of a received job. The payload keys are parsed strictly against the catalog: a
 * malformed payload can never succeed, so it fails at once (UnrecoverableError, no retries) with the
 * field list. The keys of the job's kept state are parsed one by one by its state schema.
 */
export function parseJob<Q extends QueueName, N extends JobName<Q>>(
  queue: Q,
  name: N,
  job: Job,
): ParsedJob<Q, N> {
  const entry = catalogEntry(queue, name);
  if (!entry) throw new UnrecoverableError(`no handler for ${queue}/${name} (job ${job.id})`);
  const raw: unknown = job.data;
  const record = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? raw : undefined;
  const stateShape: Record<string, { safeParse(v: unknown): { success: boolean; data?: unknown } }> =
    entry.state?.shape ?? {};
  const stateKeys = new Set(Object.keys(stateShape));
  const payload = record
    ? Object.fromEntries(Object.entries(record).filter(([key]) => !stateKeys.has(key)))
    : raw;
  const result = entry.payload.safeParse(payload);
  if (!result.success) {
    const list = zodProblems(result.error)
      .map((p) => `${p.path || '(root)'}: ${p.message}`)
      .join('; ');
    throw new UnrecoverableError(`malformed ${queue}/${name} job ${job.id}: ${list}`);
  }
  const state: Record<string, unknown> = {};
  const dropped: string[] = [];
  for (const [key, schema] of Object.entries(stateShape)) {
    if (!record || !Object.hasOwn(record, key)) continue;
    const parsed = schema.safeParse((record as Record<string, unknown>)[key]);
    if (!parsed.success) dropped.push(key);
    else if (parsed.data !== undefined) state[key] = parsed.data;
  }
  return { data: result.data as JobData<Q, N>, state: state as JobKeptState<Q, N>, dropped };
}
