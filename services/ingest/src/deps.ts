import type { ServiceContext, UploadToSignedUrl } from '@rfbatch/shared';
import type { ResolvedIngestOptions } from './options.js';

/** What every ingest processor may use. */
export interface IngestDeps {
  ctx: ServiceContext;
  options: ResolvedIngestOptions;
  /** The signed-URL uploader (the shared one; a test may wrap it). */
  upload: UploadToSignedUrl;
  /**
   * Runs one upload (URL request and the bytes sent) in one of the slots every ingest process shares
   * (`sharedUploads`), or straight away when there is no shared cap.
   */
  uploadSlot: <T>(send: () => Promise<T>, signal: AbortSignal | undefined) => Promise<T>;
}
