import { z } from 'zod';
import { parseEnv } from '@rfbatch/shared';
import type { ExportServiceOptions } from './options.js';

/** Environment variables of the export service process (all optional; defaults in options.ts). */
const ExportEnv = z.object({
  RFBATCH_EXPORT_CONCURRENCY: z.coerce.number().int().min(1).optional(),
  RFBATCH_DOWNLOAD_CONCURRENCY: z.coerce.number().int().min(1).optional(),
  RFBATCH_DOWNLOAD_FILES_PER_JOB: z.coerce.number().int().min(1).optional(),
  RFBATCH_EXTRACT_MAX_BYTES: z.coerce.number().int().min(1).optional(),
  RFBATCH_EXTRACT_MAX_RATIO: z.coerce.number().min(1).optional(),
  RFBATCH_LOCK_DURATION_MS: z.coerce.number().int().min(1000).optional(),
});

/** Reads the export service options from the environment; every bad variable is listed in one error. */
export function exportOptionsFromEnv(
  env: Record<string, string | undefined> = process.env,
): ExportServiceOptions {
  const e = parseEnv(ExportEnv, env);
  const options: ExportServiceOptions = {};
  if (e.RFBATCH_EXPORT_CONCURRENCY !== undefined) options.concurrency = e.RFBATCH_EXPORT_CONCURRENCY;
  if (e.RFBATCH_DOWNLOAD_CONCURRENCY !== undefined)
    options.downloadConcurrency = e.RFBATCH_DOWNLOAD_CONCURRENCY;
  if (e.RFBATCH_DOWNLOAD_FILES_PER_JOB !== undefined) options.filesPerJob = e.RFBATCH_DOWNLOAD_FILES_PER_JOB;
  const limits: ExportServiceOptions['extractLimits'] = {};
  if (e.RFBATCH_EXTRACT_MAX_BYTES !== undefined) limits.maxTotalBytes = e.RFBATCH_EXTRACT_MAX_BYTES;
  if (e.RFBATCH_EXTRACT_MAX_RATIO !== undefined) limits.maxRatio = e.RFBATCH_EXTRACT_MAX_RATIO;
  if (Object.keys(limits).length) options.extractLimits = limits;
  if (e.RFBATCH_LOCK_DURATION_MS !== undefined) options.lockDurationMs = e.RFBATCH_LOCK_DURATION_MS;
  return options;
}
