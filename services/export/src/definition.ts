import type { ServiceDefinition } from '@rfbatch/shared';
import { ExportOptionsSchema, type ExportServiceOptions } from './options.js';
import { startExport } from './service.js';

/** The export service as `runServices` runs it (`rfbatch workers --only export`, src/main.ts). */
export const exportService: ServiceDefinition<ExportServiceOptions> = {
  name: 'export',
  queues: ['export'],
  options: ExportOptionsSchema,
  start: startExport,
};
