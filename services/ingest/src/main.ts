/** The ingest service process: `tsx services/ingest/src/main.ts` (config from the environment). */
import { closeServiceContext, createLogger, createServiceContext, loadConfig, runUntilSignal } from '@rfbatch/shared';
import { ingestOptionsFromEnv } from './options.js';
import { ingestRateLimiter, startIngest } from './service.js';

const config = loadConfig();
const logger = createLogger({ level: config.logLevel, name: 'ingest' });
const options = ingestOptionsFromEnv();
const limiter = ingestRateLimiter();
const ctx = createServiceContext(config, logger, { clientOptions: { onRateLimited: limiter.onRateLimited } });
limiter.attach(ctx.queues);

await runUntilSignal(
  async () => {
    const service = await startIngest(ctx, options);
    return {
      async close() {
        await service.close();
        await closeServiceContext(ctx);
      },
    };
  },
  { logger },
);
