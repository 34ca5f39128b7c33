/** The gateway as its own process: `tsx services/gateway/src/main.ts` (configured by environment). */
import {
  closeServiceContext,
  createLogger,
  createRedisMetrics,
  createServiceContext,
  describeError,
  loadConfig,
  runUntilSignal,
} from '@rfbatch/shared';
import { startGateway } from './start.js';

try {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'gateway' });
  await runUntilSignal(async () => {
    const ctx = createServiceContext(config, logger);
    ctx.metrics = createRedisMetrics(ctx.connection, config.redis.prefix);
    const gateway = await startGateway(ctx);
    return {
      close: async () => {
        await gateway.close();
        await ctx.metrics?.close();
        await closeServiceContext(ctx);
      },
    };
  }, { logger });
} catch (error) {
  process.stderr.write(`rfbatch gateway: ${describeError(error)}\n`);
  process.exit(1);
}
