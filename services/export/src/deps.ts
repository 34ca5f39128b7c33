import type { ServiceContext } from '@rfbatch/shared';
import type { Listings } from './listings.js';
import type { ResolvedExportOptions } from './options.js';

/** What every export processor may use. */
export interface ExportDeps {
  ctx: ServiceContext;
  options: ResolvedExportOptions;
  /** Output listings with their signed URLs, reused within this process (urlCacheMs). */
  listings: Listings;
}
