/**
 * The causes a failed job is sorted into, and the words that show each one.
 *
 * The real service's wording of its failure logs is not documented (roboflow-api.md §3.8 gives only
 * the log shape), so the cause is read with broad, case-insensitive patterns over every text field of
 * a log (`logType`, `payload.reason|type|message|error|…`) and the job's `lastNotification` — the
 * words a worker, a container runtime or a Python traceback use for each cause — never with one exact
 * sentence. The emulator's fault logs are one instance of these patterns, not their definition.
 * Causes are ranked: a line that names several (an OOM message that mentions the workflow) counts for
 * the most specific one, and the job's class is the highest-ranked cause any line shows.
 */
import type { FailureClass } from '@rfbatch/shared';

export type Cause = Exclude<FailureClass, 'unknown'>;

/** Causes in rank order, each with the patterns that show it (any one of them). */
export const CAUSES: readonly { class: Cause; patterns: RegExp[] }[] = [
  { class: 'aborted', patterns: [/\b(job|task)[- ]aborted\b|\baborted by (the )?(user|request)/i] },
  {
    class: 'input-missing',
    patterns: [
      /\binput[- ]error\b|\binput (data|batch|shard)\b[^.;]*\b(gone|missing|not found|expired|deleted)\b|\bhas expired\b|\bexpired or (was )?deleted\b/i,
    ],
  },
  {
    class: 'out-of-memory',
    patterns: [
      /out[- ]of[- ]memory|\boom(killed)?\b|\bworker[- ]oom\b|exit code 137|\bsigkill\b.*memory|memoryerror|memory limit|cannot allocate memory|bad_alloc/i,
    ],
  },
  {
    class: 'timeout',
    patterns: [
      /\btimed?[- ]?out\b|\btimeout\b|deadline exceeded|exceeded [^.;]*\b(time|runtime|duration|processingtimeoutseconds)\b|max(imum)?[- ]runtime/i,
    ],
  },
  {
    class: 'image-failures',
    patterns: [
      /\bimage[- ]failures?\b|\bimages? failed\b|\bfailed images?\b|failure rate|maximagefailurerate|too many (image )?failures/i,
    ],
  },
  {
    class: 'workflow-error',
    patterns: [
      /\bworkflow\b|\bstep\b[^.;]*\b(raised|failed)\b|traceback|execution failed|\bblock\b[^.;]*\b(failed|error)\b/i,
      // Exception class names (RuntimeError, KeyError, ValueError…): case-sensitive, so a plain "error" is not one.
      /\b[A-Z][A-Za-z]*(Error|Exception)\b/,
    ],
  },
];

/** The highest-ranked cause a text shows, if any. */
export function classOf(text: string): Cause | undefined {
  return CAUSES.find((c) => c.patterns.some((p) => p.test(text)))?.class;
}
