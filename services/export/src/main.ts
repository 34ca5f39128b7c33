/** The export service as its own process: `tsx services/export/src/main.ts` (configured by environment). */
import { serviceMain } from '@rfbatch/shared';
import { exportOptionsFromEnv } from './env-options.js';
import { startExport } from './service.js';

await serviceMain({ name: 'export', options: exportOptionsFromEnv, start: startExport });
