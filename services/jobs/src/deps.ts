import type { ServiceContext } from '@rfbatch/shared';
import type { ResolvedJobsOptions } from './options.js';

/** What every jobs processor may use. */
export interface JobsDeps {
  ctx: ServiceContext;
  options: ResolvedJobsOptions;
}
