import { z } from 'zod';
import { parseEnv } from '@rfbatch/shared';
import type { JobsServiceOptions } from './options.js';

const ms = z.coerce.number().int().min(0).optional();

/** Environment variables of the jobs service process (all optional; defaults in options.ts). */
const JobsEnv = z.object({
  RFBATCH_JOBS_CONCURRENCY: z.coerce.number().int().min(1).optional(),
  RFBATCH_POLL_MIN_MS: ms,
  RFBATCH_POLL_MAX_MS: ms,
  RFBATCH_VERIFY_TIMEOUT_MS: ms,
  RFBATCH_AWAIT_MARGIN_MS: ms,
  RFBATCH_LOCK_DURATION_MS: z.coerce.number().int().min(1000).optional(),
});

/** Reads the jobs service options from the environment; every bad variable is listed in one error. */
export function jobsOptionsFromEnv(
  env: Record<string, string | undefined> = process.env,
): JobsServiceOptions {
  const e = parseEnv(JobsEnv, env);
  const options: JobsServiceOptions = {};
  if (e.RFBATCH_JOBS_CONCURRENCY !== undefined) options.concurrency = e.RFBATCH_JOBS_CONCURRENCY;
  if (e.RFBATCH_POLL_MIN_MS !== undefined) options.pollMinMs = e.RFBATCH_POLL_MIN_MS;
  if (e.RFBATCH_POLL_MAX_MS !== undefined) options.pollMaxMs = e.RFBATCH_POLL_MAX_MS;
  if (e.RFBATCH_VERIFY_TIMEOUT_MS !== undefined) options.verifyTimeoutMs = e.RFBATCH_VERIFY_TIMEOUT_MS;
  if (e.RFBATCH_AWAIT_MARGIN_MS !== undefined) options.awaitMarginMs = e.RFBATCH_AWAIT_MARGIN_MS;
  if (e.RFBATCH_LOCK_DURATION_MS !== undefined) options.lockDurationMs = e.RFBATCH_LOCK_DURATION_MS;
  return options;
}
