/** A tiny service for shared's lifecycle.test.ts: `tsx lifecycle-service.ts clean|hang|fail-start`. */
import { createLogger, runUntilSignal } from '@rfbatch/shared';

const mode = process.argv[2] ?? 'clean';
const logger = createLogger({ name: 'fixture' });

await runUntilSignal(
  async () => {
    if (mode === 'fail-start') throw new Error('cannot reach Redis');
    return {
      close: async () => {
        if (mode === 'hang') await new Promise<void>(() => {});
        logger.info('fixture closed its work');
      },
    };
  },
  { logger, deadlineMs: 300 },
);
