/** Data-staging webhook payloads (roboflow-api.md §9), without `delivery_attempt` (the sender adds it). */
import { randomUUID } from 'node:crypto';
import type { FailedFile } from '../store.js';

/** files-status lists are cut at this many names, with `content_truncated: true`. */
const MAX_LISTED_FILES = 1000;

export function ingestStatusPayload(p: {
  ingestId: string;
  batchId: string;
  success: boolean;
  error?: { type: string; reason: string };
}): Record<string, unknown> {
  return {
    type: 'roboflow-data-staging-notification-v1',
    event_id: randomUUID(),
    ingest_id: p.ingestId,
    batch_id: p.batchId,
    shard_id: null,
    notification: {
      type: 'ingest-status-notification-v1',
      success: p.success,
      ...(p.error ? { error_details: p.error } : {}),
    },
  };
}

export function filesStatusPayload(p: {
  ingestId: string;
  batchId: string;
  shardId: string;
  ingested: string[];
  failed: FailedFile[];
}): Record<string, unknown> {
  const truncated = p.ingested.length + p.failed.length > MAX_LISTED_FILES;
  const failed = p.failed.slice(0, MAX_LISTED_FILES);
  const ingested = p.ingested.slice(0, Math.max(0, MAX_LISTED_FILES - failed.length));
  return {
    type: 'roboflow-data-staging-notification-v1',
    event_id: randomUUID(),
    ingest_id: p.ingestId,
    batch_id: p.batchId,
    shard_id: p.shardId,
    notification: {
      type: 'ingest-files-status-notification-v1',
      success: p.failed.length === 0,
      ingested_files: ingested,
      failed_files: failed,
      content_truncated: truncated,
    },
  };
}

export function jobPayload(jobId: string, success: boolean): Record<string, unknown> {
  return {
    type: 'roboflow-batch-job-notification-v1',
    event_id: randomUUID(),
    job_id: jobId,
    job_state: success ? 'success' : 'fail',
  };
}
