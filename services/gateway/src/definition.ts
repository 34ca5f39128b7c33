import type { ServiceDefinition } from '@rfbatch/shared';
import { GatewayOptionsSchema } from './options.js';
import { startGateway, type StartGatewayOptions } from './start.js';

/** The gateway as `runServices` runs it (`rfbatch gateway`, src/main.ts). */
export const gatewayService: ServiceDefinition<StartGatewayOptions> = {
  name: 'gateway',
  queues: [],
  options: GatewayOptionsSchema,
  async start(ctx, options) {
    const gateway = await startGateway(ctx, options);
    return { name: 'gateway', workers: [], url: gateway.url, close: () => gateway.close() };
  },
};
