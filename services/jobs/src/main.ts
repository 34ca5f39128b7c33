/** The jobs service as its own process: `tsx services/jobs/src/main.ts` (configured by environment). */
import {
  closeServiceContext,
  createLogger,
  createRedisMetrics,
  createServiceContext,
  describeError,
  loadConfig,
  runUntilSignal,
} from '@rfbatch/shared';
import { jobsOptionsFromEnv } from './env-options.js';
import { startJobs } from './service.js';

try {
  const config = loadConfig();
  const options = jobsOptionsFromEnv();
  const logger = createLogger({ level: config.logLevel, name: 'jobs' });
  await runUntilSignal(
    async () => {
      const ctx = createServiceContext(config, logger);
      ctx.metrics = createRedisMetrics(ctx.connection, config.redis.prefix);
      const service = await startJobs(ctx, options);
      return {
        close: async () => {
          await service.close();
          await ctx.metrics?.close();
          await closeServiceContext(ctx);
        },
      };
    },
    { logger },
  );
} catch (error) {
  process.stderr.write(`rfbatch jobs: ${describeError(error)}\n`);
  process.exit(1);
}
