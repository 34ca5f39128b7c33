import type { ServiceDefinition } from '@rfbatch/shared';
import { JobsOptionsSchema, type JobsServiceOptions } from './options.js';
import { startJobs } from './service.js';

/** The jobs service as `runServices` runs it (`rfbatch workers --only jobs`, src/main.ts). */
export const jobsService: ServiceDefinition<JobsServiceOptions> = {
  name: 'jobs',
  queues: ['jobs'],
  options: JobsOptionsSchema,
  start: startJobs,
};
