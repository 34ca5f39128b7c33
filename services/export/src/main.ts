/** The export service as its own process: `tsx services/export/src/main.ts` (configured by environment). */
import {
  closeServiceContext,
  createLogger,
  createRedisMetrics,
  createServiceContext,
  describeError,
  loadConfig,
  runUntilSignal,
} from '@rfbatch/shared';
import { exportOptionsFromEnv } from './env-options.js';
import { startExport } from './service.js';

try {
  const config = loadConfig();
  const options = exportOptionsFromEnv();
  const logger = createLogger({ level: config.logLevel, name: 'export' });
  await runUntilSignal(
    async () => {
      const ctx = createServiceContext(config, logger);
      ctx.metrics = createRedisMetrics(ctx.connection, config.redis.prefix);
      const service = await startExport(ctx, options);
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
  process.stderr.write(`rfbatch export: ${describeError(error)}\n`);
  process.exit(1);
}
