import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';

/** The API's rule for batch ids (roboflow-api.md §1). */
export const BATCH_ID_RULE = /^[a-z0-9_-]{1,64}$/;
/** The API's rule for job ids: the same alphabet, at most 20 characters. */
export const JOB_ID_RULE = /^[a-z0-9_-]{1,20}$/;
/** Our rule for run ids: the batch alphabet, short enough to derive every other id from it. */
export const RUN_ID_RULE = /^[a-z0-9][a-z0-9_-]{0,39}$/;

// A regex check (not a refine) so that the generated JSON Schema carries the rule as `pattern`.
const rule = (re: RegExp, what: string, text: string) =>
  z.string().regex(re, {
    error: (issue) => `${what} ${JSON.stringify(issue.input)} breaks the rule: ${text}`,
  });

export const BatchIdSchema = rule(
  BATCH_ID_RULE,
  'batch id',
  '1 to 64 characters of a-z, 0-9, "_" and "-" (lowercase)',
);
export const JobIdSchema = rule(
  JOB_ID_RULE,
  'job id',
  '1 to 20 characters of a-z, 0-9, "_" and "-" (lowercase)',
);
export const RunIdSchema = rule(
  RUN_ID_RULE,
  'run id',
  '1 to 40 characters of a-z, 0-9, "_" and "-", starting with a letter or digit',
);

/** A new run id: sortable by creation time, readable, and unique enough (`r20261129-111530-k3x9a`). */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const tail = [...randomBytes(5)].map((b) => alphabet[b % alphabet.length]).join('');
  return `r${stamp}-${tail}`;
}

/** Default batch id of a run: `rfb-<runId>` (at most 44 characters, within the 64 allowed). */
export function deriveBatchId(runId: string): string {
  return `rfb-${runId}`;
}

/**
 * Default job id of a run: `rfb-` + 16 hex characters of sha256(runId), 20 characters in all.
 * Deterministic, so a retried start after a lost response reuses the same id and never pays twice.
 */
export function deriveJobId(runId: string): string {
  return `rfb-${createHash('sha256').update(runId).digest('hex').slice(0, 16)}`;
}

/**
 * A stable ingest id for one chunk of a references ingest (a retry is recognised as a duplicate), or
 * for the run's tar shards (no chunk). `base` is the user's ingest id (RunSpec `ingestId`), else `rfb-<runId>`.
 */
export function deriveIngestId(runId: string, chunk?: number, base?: string): string {
  const root = base ?? `rfb-${runId}`;
  return chunk === undefined ? root : `${root}-${chunk}`;
}

/**
 * The `displayName` option of every upload call: the run's `batchName` when it has one, else nothing
 * (the client then sends the batch id, as the official client does).
 */
export function displayNameOpts(spec: { batchName?: string | undefined }): { displayName?: string } {
  return spec.batchName ? { displayName: spec.batchName } : {};
}
