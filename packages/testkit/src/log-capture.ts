/** A logger whose lines are kept for assertions (what was logged, and that no secret was). */
import { createLogger, type Logger } from '@rfbatch/shared';

/** A logger whose lines (JSON strings) are kept for assertions, at `trace` level. */
export function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger({
    level: 'trace',
    destination: { write: (line: string) => void lines.push(line) },
  });
  return { logger, lines };
}
