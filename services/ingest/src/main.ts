/** The ingest service as its own process (configured by environment): the same entry as `rfbatch workers --only ingest`. */
import { runServices } from '@rfbatch/shared';
import { ingestService } from './definition.js';

await runServices([ingestService]);
