import type { CliIO } from './io.js';

/** What every command gets: the IO of this invocation, global flags, and a place for its exit code. */
export interface App {
  io: CliIO;
  verbose(): boolean;
  /** Set by commands that end without an error but not with 0 (a detached `run` → 130). */
  exitCode: number;
}
