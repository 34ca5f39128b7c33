import { ConfigError, ErrorCode, RfbatchError, ValidationError, describeError } from '@rfbatch/shared';

/** Documented exit codes of `rfbatch`. */
export const ExitCode = {
  ok: 0,
  /** The run (or the remote operation) failed or was cancelled. */
  failed: 1,
  /** Bad arguments or input (a bad id, a missing folder, an invalid RunSpec). */
  usage: 2,
  /** Bad environment: a missing API key, an invalid variable, Redis not reachable. */
  config: 3,
  /** Something named does not exist (a run, a batch, a job). */
  notFound: 4,
  /** The run completed, but some of its files have no result (`not-processed` or `failed` lines). */
  partial: 5,
  /** Ctrl-C: detached from the run (it goes on if workers run elsewhere). */
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error that knows its exit code and its one-line reason (with what to do). */
export class CliError extends RfbatchError {
  readonly exitCode: ExitCode;
  constructor(exitCode: ExitCode, message: string, hint?: string) {
    super(
      exitCode === ExitCode.usage
        ? ErrorCode.validation
        : exitCode === ExitCode.config
          ? ErrorCode.config
          : ErrorCode.run,
      message,
      { hint },
    );
    this.exitCode = exitCode;
  }
}

export function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof ConfigError) return ExitCode.config;
  if (error instanceof RfbatchError && /^unknown run /.test(error.message)) return ExitCode.notFound;
  if (error instanceof RfbatchError && error.code === ErrorCode.apiNotFound) return ExitCode.notFound;
  if (
    error instanceof ValidationError ||
    (error instanceof RfbatchError &&
      (error.code === ErrorCode.validation || error.code === ErrorCode.source))
  ) {
    return ExitCode.usage;
  }
  if (error instanceof RfbatchError && error.code === ErrorCode.apiUnauthorized) return ExitCode.config;
  return ExitCode.failed;
}

/** The one line printed for a failure: `rfbatch: <what happened> — <what to do>`. Multi-line config errors stay whole. */
export function reasonOf(error: unknown): string {
  return describeError(error);
}
