/** The ingest service as its own process: `tsx services/ingest/src/main.ts` (configured by environment). */
import { serviceMain } from '@rfbatch/shared';
import { ingestOptionsFromEnv } from './options.js';
import { ingestRateLimiter, startIngest } from './service.js';

// A 429 to any request slows every ingest worker of this process, not just the request.
const limiter = ingestRateLimiter();
await serviceMain({
  name: 'ingest',
  options: ingestOptionsFromEnv,
  context: { clientOptions: { onRateLimited: limiter.onRateLimited } },
  start: (ctx, options) => {
    limiter.attach(ctx.queues);
    return startIngest(ctx, options);
  },
});
