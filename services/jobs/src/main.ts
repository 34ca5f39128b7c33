/** The jobs service as its own process: `tsx services/jobs/src/main.ts` (configured by environment). */
import { serviceMain } from '@rfbatch/shared';
import { jobsOptionsFromEnv } from './env-options.js';
import { startJobs } from './service.js';

await serviceMain({ name: 'jobs', options: jobsOptionsFromEnv, start: startJobs });
