/** The export service as its own process (configured by environment): the same entry as `rfbatch workers --only export`. */
import { runServices } from '@rfbatch/shared';
import { exportService } from './definition.js';

await runServices([exportService]);
