/** The gateway as its own process (configured by environment): the same entry as `rfbatch gateway`. */
import { runServices } from '@rfbatch/shared';
import { gatewayService } from './definition.js';

await runServices([gatewayService]);
