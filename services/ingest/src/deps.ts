import type { ServiceContext, UploadToSignedUrl } from '@rfbatch/shared';
import type { ResolvedIngestOptions } from './options.js';

/** What every ingest processor may use. */
export interface IngestDeps {
  ctx: ServiceContext;
  options: ResolvedIngestOptions;
  /** The signed-URL uploader (the shared one; a test may wrap it). */
  upload: UploadToSignedUrl;
}
