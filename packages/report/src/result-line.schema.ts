import { z } from 'zod';

/** A result record as the job wrote it (a JSONL object, or a CSV row whose cells are text). */
const ResultRecord = z.record(z.string(), z.unknown());
export type ResultRecord = z.infer<typeof ResultRecord>;

export const ResultStatus = z.enum(['ok', 'failed', 'not-processed', 'skipped']);
export type ResultStatus = z.infer<typeof ResultStatus>;

/** One line of results.jsonl: a source file, its status and its record (images) or frames (videos). */
export const ResultLine = z.looseObject({
  source: z.string(),
  remoteName: z.string().optional(),
  kind: z.enum(['image', 'video']).optional(),
  status: ResultStatus,
  reason: z.string().optional(),
  detail: z.string().optional(),
  result: ResultRecord.optional(),
  frames: z.array(ResultRecord).optional(),
});
export type ResultLine = z.infer<typeof ResultLine>;
