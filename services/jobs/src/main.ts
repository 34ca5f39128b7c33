/** The jobs service as its own process (configured by environment): the same entry as `rfbatch workers --only jobs`. */
import { runServices } from '@rfbatch/shared';
import { jobsService } from './definition.js';

await runServices([jobsService]);
