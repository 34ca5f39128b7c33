import { z } from 'zod';

/** A stage's times in summary.json. */
const StageTiming = z.looseObject({
  startedAt: z.string(),
  endedAt: z.string().optional(),
  durationMs: z.number().optional(),
});

/**
 * summary.json as the report reads it (finalize writes it). Loose: fields added later are kept and
 * ignored, and a field the report does not need may be missing.
 */
export const RunSummary = z.looseObject({
  runId: z.string(),
  state: z.string().default('completed'),
  attempt: z.number().int().default(0),
  batchId: z.string().optional(),
  jobId: z.string().optional(),
  workflowId: z.string().optional(),
  uploadMode: z.string().nullable().optional(),
  counts: z.record(z.string(), z.number()).default({}),
  statusCounts: z.record(z.string(), z.number()).default({}),
  downloads: z.looseObject({ files: z.number(), bytes: z.number() }).optional(),
  timings: z.record(z.string(), StageTiming).default({}),
  warnings: z.array(z.string()).default([]),
  expiry: z
    .looseObject({
      batchExpiresAt: z.string().nullable().optional(),
      outputExpiresAt: z.string().nullable().optional(),
    })
    .default({}),
  createdAt: z.string().optional(),
  finishedAt: z.string().optional(),
});
export type RunSummary = z.infer<typeof RunSummary>;
