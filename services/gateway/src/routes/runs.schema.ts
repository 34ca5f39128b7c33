/**
 * The shapes of the submit/status API (runs.routes.ts): what the routes parse, and what they answer,
 * for the routes and for the OpenAPI document (openapi.ts). Request shapes are parsed; response
 * shapes describe what the run-control views return.
 */
import { z } from 'zod';
import { RunStateSchema, RunStatus, Stage } from '@rfbatch/shared';

export const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

/** A run id as RunIdSchema writes it; anything else (`r1:done`, `..`) is a 400, never a lookup. */
export const RunParams = z.object({
  id: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, 'a run id: letters, digits, _ and -'),
});

export const SubmitAnswer = z.object({
  runId: z.string(),
  /** False when a run with this id and the same spec already existed (a repeated submit). */
  created: z.boolean(),
});

const RunRowSchema = z.looseObject({
  runId: z.string(),
  status: RunStatus,
  attempt: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
  finishedAt: z.string().optional(),
  source: z.string().optional(),
});

export const RunListAnswer = z.object({
  runs: z.array(RunRowSchema),
  limit: z.number().int(),
  offset: z.number().int(),
});

const ExpiryView = z.object({ at: z.string(), secondsLeft: z.number() });

/** GET /runs/:id: the run state, its spec (notify URL redacted) and its expiry. */
export const RunViewAnswer = RunStateSchema.extend({
  spec: z.record(z.string(), z.unknown()).optional(),
  expiry: z.object({
    batch: ExpiryView.optional(),
    output: ExpiryView.optional(),
    warning: z.string().optional(),
  }),
});

export const CancelAnswer = z.object({
  runId: z.string(),
  status: RunStatus,
  cancelled: z.boolean(),
  removedJobs: z.number().int(),
  abortedRemoteJob: z.boolean(),
});

export const RetryAnswer = z.looseObject({
  runId: z.string(),
  status: RunStatus,
  attempt: z.number().int(),
  resumedAt: Stage,
  restartedRemoteJob: z.boolean(),
});
