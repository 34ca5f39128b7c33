import type { ServiceDefinition } from '@rfbatch/shared';
import { IngestOptionsSchema, type IngestOptions } from './options.js';
import { ingestRateLimiter, startIngest } from './service.js';

/** The ingest service as `runServices` runs it (`rfbatch workers --only ingest`, src/main.ts). */
export const ingestService: ServiceDefinition<IngestOptions> = {
  name: 'ingest',
  queues: ['runs', 'ingest'],
  options: IngestOptionsSchema,
  start: startIngest,
  // A 429 to any request slows every ingest worker of this process, not just the request.
  onRateLimited(ctx) {
    const limiter = ingestRateLimiter();
    limiter.attach(ctx.queues);
    return limiter.onRateLimited;
  },
};
