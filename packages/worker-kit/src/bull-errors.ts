import { DelayedError, RateLimitError, UnrecoverableError, WaitingChildrenError } from 'bullmq';
import { describeError, isRetryable } from '@rfbatch/shared';

/** BullMQ's UnrecoverableError, matched by name too (in case a second copy of bullmq made it). */
export function isUnrecoverable(error: unknown): boolean {
  return (
    error instanceof UnrecoverableError || (error instanceof Error && error.name === 'UnrecoverableError')
  );
}

/** The one conversion at the processor boundary: non-retryable errors become UnrecoverableError, so BullMQ stops retrying. */
export function toBullError(error: unknown): Error {
  if (error instanceof UnrecoverableError) return error;
  if (!isRetryable(error)) {
    const wrapped = new UnrecoverableError(describeError(error));
    wrapped.cause = error;
    return wrapped;
  }
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * BullMQ's control-flow "errors" (DelayedError, WaitingChildrenError, RateLimitError): a job parked on
 * purpose, nothing failed. They pass through the processor boundary untouched. Matched by name too, in
 * case a second copy of bullmq made them.
 */
export function isControlFlow(error: unknown): boolean {
  return (
    error instanceof DelayedError ||
    error instanceof WaitingChildrenError ||
    error instanceof RateLimitError ||
    (error instanceof Error &&
      ['DelayedError', 'WaitingChildrenError', 'RateLimitError'].includes(error.name))
  );
}
