/**
 * The life of a service process: start, run until SIGINT/SIGTERM, then close under a deadline, flush
 * the logs and exit (0 after a clean close, 1 when the close failed or overran the deadline).
 */
import type { Logger } from './logger.js';

export interface RunUntilSignalOptions {
  logger: Logger;
  /** Longest wait for `close()` after a signal. @defaultValue 30_000 */
  deadlineMs?: number;
  /** @defaultValue ['SIGINT', 'SIGTERM'] */
  signals?: NodeJS.Signals[];
  /**
   * Stops the service when aborted, instead of the process signals: for a host that owns them (the
   * CLI turns the first SIGINT/SIGTERM into this abort, and exits at once on the second itself).
   */
  stop?: AbortSignal;
  /**
   * Takes over a failed start (the host reports it its own way): what it returns is resolved, and
   * nothing is logged or exited here. @defaultValue logs "failed to start" and exits 1
   */
  onStartError?: (err: unknown) => number | Promise<number>;
  /** Ends the process. @defaultValue process.exit */
  exit?: (code: number) => void;
}

function flush(logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 1_000);
    logger.flush(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Starts the service and keeps it running until a signal; a second signal exits at once (code 1).
 * Resolves with the exit code once `exit` was called (which, by default, does not return).
 */
export async function runUntilSignal(
  start: () => Promise<{ close(): Promise<void> }>,
  options: RunUntilSignalOptions,
): Promise<number> {
  const { logger } = options;
  const deadlineMs = options.deadlineMs ?? 30_000;
  const signals = options.signals ?? ['SIGINT', 'SIGTERM'];
  const exit = options.exit ?? ((code: number) => process.exit(code));

  const finish = async (code: number): Promise<number> => {
    await flush(logger);
    exit(code);
    return code;
  };

  // Listen before starting: a signal that comes during start-up must not kill the process uncleanly.
  // The first signal stops the service; a second one means "now": exit without waiting for the close.
  let onFirst: (s: string) => void = () => {};
  const signalled = new Promise<string>((resolve) => (onFirst = resolve));
  let received = 0;
  const handler = (s: NodeJS.Signals) => {
    if (++received === 1) return onFirst(s);
    logger.warn({ signal: s }, 'second signal; exiting without waiting');
    void finish(1);
  };
  const { stop } = options;
  const onAbort = () => onFirst(typeof stop?.reason === 'string' ? stop.reason : 'stop');
  const stopListening = () => {
    if (stop) stop.removeEventListener('abort', onAbort);
    else for (const s of signals) process.off(s, handler);
  };
  if (stop?.aborted) onAbort();
  else if (stop) stop.addEventListener('abort', onAbort, { once: true });
  else for (const s of signals) process.on(s, handler);

  let running: { close(): Promise<void> };
  try {
    running = await start();
  } catch (err) {
    stopListening();
    if (options.onStartError) return options.onStartError(err);
    logger.fatal({ err }, 'failed to start');
    return finish(1);
  }
  logger.info({ pid: process.pid }, 'started; stop with SIGINT or SIGTERM');
  // Signal listeners do not keep Node alive; a service without open handles must still wait.
  const keepAlive = setInterval(() => {}, 1 << 30);
  const signal = await signalled;
  clearInterval(keepAlive);

  logger.info({ signal, deadlineMs }, 'stopping: no new work, waiting for running work');
  let timer: NodeJS.Timeout | undefined;
  const overran = new Promise<number>((resolve) => {
    timer = setTimeout(() => {
      logger.error({ deadlineMs }, 'did not stop within the deadline; exiting anyway');
      resolve(1);
    }, deadlineMs);
  });
  const closed = running.close().then(
    () => {
      logger.info('stopped');
      return 0;
    },
    (err: unknown) => {
      logger.error({ err }, 'close failed');
      return 1;
    },
  );
  const code = await Promise.race([closed, overran]);
  clearTimeout(timer);
  stopListening();
  return finish(code);
}
