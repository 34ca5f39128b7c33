/** The gateway as its own process: `tsx services/gateway/src/main.ts` (configured by environment). */
import { serviceMain } from '@rfbatch/shared';
import { startGateway } from './start.js';

// The gateway has no options of its own beyond the shared configuration (RFBATCH_GATEWAY_*).
await serviceMain({ name: 'gateway', options: () => ({}), start: (ctx) => startGateway(ctx) });
