import { stderrText } from './stderr-lines.js';

/** Where a CLI invocation reads and writes: the real process in main.ts, buffers in tests. */
export interface CliIO {
  stdout: { write(text: string): unknown; isTTY?: boolean; columns?: number };
  stderr: { write(text: string): unknown; isTTY?: boolean; columns?: number };
  env: Record<string, string | undefined>;
  cwd: string;
  /** Aborted on Ctrl-C: long commands (run, watch, workers, gateway) stop cleanly. */
  signal: AbortSignal;
  /** Asks a yes/no question on the terminal; absent when there is no terminal to ask on. */
  confirm?: (question: string) => Promise<boolean>;
}

/** Prints data as JSON on stdout (one document, newline-terminated). */
export function printJson(io: CliIO, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLine(io: CliIO, text = ''): void {
  io.stdout.write(`${text}\n`);
}

/** Progress, notes and warnings go to stderr so stdout stays clean for data (JSON lines with LOG_FORMAT=json). */
export function note(io: CliIO, text: string): void {
  stderrText(io)(`${text}\n`);
}

/** Resolves after `ms`, or at once when `signal` is aborted. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * A signal for `CliIO.signal` in a real process: the first SIGINT/SIGTERM asks the running command to
 * stop cleanly; a second one leaves at once (exit 130).
 */
export function processSignal(): AbortSignal {
  const controller = new AbortController();
  let signals = 0;
  const onSignal = () => {
    if (++signals > 1) process.exit(130);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return controller.signal;
}
