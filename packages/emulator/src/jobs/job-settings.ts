/** A job's settings: its definition, with the overrides of its restarts on top. */
import type { JobBody, RestartOverrides, TrtCompilationJobV1 } from '@rfbatch/shared';
import type { AggregationFormat } from '../processing/records.js';
import type { JobRecord } from '../store.js';

type Setting = 'maxParallelTasks' | 'processingTimeoutSeconds' | 'maxImageFailureRate';
type Compute = Partial<NonNullable<RestartOverrides['computeConfiguration']>>;

/** The definition of a Workflow job, validated as a `JobBody` when the job was created. */
export function jobSpec(job: JobRecord): JobBody {
  return job.definition as unknown as JobBody;
}

/** The definition of a TRT compilation job, or undefined for a Workflow job. */
export function trtSpec(job: JobRecord): TrtCompilationJobV1 | undefined {
  return job.definition.type === 'trt-compilation-v1'
    ? (job.definition as unknown as TrtCompilationJobV1)
    : undefined;
}

export function resultFormat(job: JobRecord): AggregationFormat {
  return jobSpec(job).processingSpecification.aggregationFormat ?? 'jsonl';
}

/** A setting as overridden by the latest restart that set it, else as defined. */
export function effectiveSetting<K extends Setting>(job: JobRecord, key: K): RestartOverrides[K] {
  for (let i = job.restartParametersOverride.length - 1; i >= 0; i--) {
    const value = job.restartParametersOverride[i]?.[key];
    if (value !== undefined) return value as RestartOverrides[K];
  }
  return job.definition[key] as RestartOverrides[K];
}

/** The compute configuration as defined, with every restart override's fields on top. */
export function effectiveCompute(job: JobRecord): Compute {
  const out = { ...(job.definition.computeConfiguration as Record<string, unknown> | undefined) };
  for (const o of job.restartParametersOverride) {
    for (const [k, v] of Object.entries(
      (o.computeConfiguration as Record<string, unknown> | undefined) ?? {},
    ))
      if (v !== undefined) out[k] = v;
  }
  return out as Compute;
}
