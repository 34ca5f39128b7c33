/**
 * Facts a restart suggestion rests on, read from the failed job: its settings as it last ran (restart
 * overrides over the definition), the images it named as failed, its failure counts, the timeout that
 * ran out and how far it got before.
 */
import type { JobLog, JobMetadata } from '@rfbatch/shared';
import { logText, num, str } from './log-fields.js';

/** Payload keys that may hold a failed image's name. */
const IMAGE_KEYS = ['fileName', 'file_name', 'imageName', 'image_name', 'image', 'inputName'] as const;
const IMAGE_LIST_KEYS = ['failedImages', 'failed_images', 'fileNames', 'file_names', 'failedFiles'] as const;
export const MAX_FAILED_IMAGES = 50;

/** A setting of the job as it last ran: the latest restart override that set it, else the definition. */
export function effective(
  job: JobMetadata | undefined,
  key: 'processingTimeoutSeconds' | 'maxImageFailureRate' | 'maxParallelTasks',
): number | undefined {
  const overrides = job?.restartParametersOverride ?? [];
  for (let i = overrides.length - 1; i >= 0; i--) {
    const v = num(overrides[i]?.[key]);
    if (v !== undefined) return v;
  }
  return num(job?.jobDefinition[key]);
}

export function effectiveCompute(job: JobMetadata | undefined): {
  machineType: 'cpu' | 'gpu' | undefined;
  workersPerMachine: number | undefined;
} {
  const merged: Record<string, unknown> = {
    ...(job?.jobDefinition.computeConfiguration as Record<string, unknown> | undefined),
  };
  for (const o of job?.restartParametersOverride ?? []) {
    for (const [k, v] of Object.entries(
      (o.computeConfiguration as Record<string, unknown> | undefined) ?? {},
    ))
      if (v !== undefined) merged[k] = v;
  }
  const machine = merged.machineType;
  return {
    machineType: machine === 'gpu' || machine === 'cpu' ? machine : undefined,
    workersPerMachine: num(merged.workersPerMachine),
  };
}

export function failedImagesOf(logs: JobLog[]): string[] {
  const names = new Set<string>();
  for (const log of logs) {
    if (log.severity === 'info') continue;
    const p = log.payload;
    const found: unknown[] = [
      ...IMAGE_KEYS.map((k) => p[k]),
      ...IMAGE_LIST_KEYS.flatMap((k) => (Array.isArray(p[k]) ? (p[k] as unknown[]) : [])),
    ];
    for (const value of found) {
      const name =
        str(value) ??
        str((value as { file_name?: unknown; fileName?: unknown } | null)?.file_name) ??
        str((value as { fileName?: unknown } | null)?.fileName);
      if (name) names.add(name);
      if (names.size >= MAX_FAILED_IMAGES) return [...names];
    }
  }
  return [...names];
}

/** `N of M images failed` from a payload's counts or a message. */
export function imageFailureCounts(logs: JobLog[]): { failed: number; total: number } | undefined {
  for (const log of logs) {
    const p = log.payload;
    const failed = num(p.imagesFailed) ?? num(p.failedImages) ?? num(p.failures);
    const total = num(p.imagesTotal) ?? num(p.itemsTotal) ?? num(p.total);
    if (failed !== undefined && total !== undefined && total > 0) return { failed, total };
    const m = /(\d+) of (\d+) images? failed/i.exec(logText(log));
    if (m) return { failed: Number(m[1]), total: Number(m[2]) };
  }
  return undefined;
}

/** The budget that ran out: the job's setting, else the number a timeout message names. */
export function timeoutOf(job: JobMetadata | undefined, lines: string[]): number | undefined {
  const set = effective(job, 'processingTimeoutSeconds');
  if (set !== undefined) return set;
  for (const line of lines) {
    const m = /processingTimeoutSeconds\D{0,12}(\d+)/i.exec(line) ?? /timeout of (\d+) ?s\b/i.exec(line);
    if (m) return Number(m[1]);
  }
  return undefined;
}

export function processedBefore(logs: JobLog[]): number | undefined {
  for (const log of logs) {
    const n =
      num(log.payload.imagesProcessed) ?? num(log.payload.itemsProcessed) ?? num(log.payload.processed);
    if (n !== undefined && n > 0) return n;
  }
  return undefined;
}
