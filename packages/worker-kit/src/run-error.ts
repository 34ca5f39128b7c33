import {
  describeError,
  ErrorCode,
  RemoteJobFailedError,
  RfbatchError,
  type RunErrorInfo,
} from '@rfbatch/shared';

/**
 * The user-facing error of a failed run, from anything thrown; `unit` (`shard 3`) goes in front of
 * the message when the job stood for one unit of a stage.
 */
export function runErrorOf(error: unknown, unit?: string): RunErrorInfo {
  const named = (message: string) => (unit ? `${unit}: ${message}` : message);
  if (error instanceof RfbatchError)
    return {
      code: error.code,
      message: named(error.message),
      ...(error.hint ? { hint: error.hint } : {}),
      ...(error instanceof RemoteJobFailedError ? { triage: error.triage } : {}),
    };
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof RfbatchError) return runErrorOf(cause, unit);
  return { code: ErrorCode.run, message: named(describeError(error)) };
}
