/** A tiny service for lifecycle.test.ts: `tsx lifecycle.fixture.ts clean|hang|fail-start`. */
import { runUntilSignal } from './lifecycle.js';
import { createLogger } from './logger.js';

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
