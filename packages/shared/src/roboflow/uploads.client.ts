/**
 * Getting data into a staging batch (roboflow-api.md §2.1–§2.5): signed upload URLs for videos and
 * shard archives, the multipart image upload, and the two references ingests. A batch is created by
 * its first upload.
 */
import {
  OkResponse,
  ReferencesIngestResponse,
  SignedUrlResponse,
  type ImageReferencesRequest,
  type VideoReferencesRequest,
} from '../api/staging.schema.js';
import { BatchIdSchema } from '../ids.js';
import { parseOrThrow } from '../validation.js';
import { batchRef, enc, type ClientContext } from './client-context.js';
import type { RoboflowClient } from './client.types.js';
import { ROBOFLOW_API_DEFAULTS } from './defaults.js';
import { multipartFileBody } from './multipart.js';

/** The upload endpoints, as a part of RoboflowClient. */
export type UploadsClient = Pick<
  RoboflowClient,
  | 'requestVideoUploadUrl'
  | 'uploadImage'
  | 'requestShardUploadUrl'
  | 'ingestImageReferences'
  | 'ingestVideoReferences'
>;

/** The upload endpoints of the client, over the transport and paths of `context`. */
export function createUploadsClient({ http, staging, requestTimeoutMs }: ClientContext): UploadsClient {
  /** The image and the video references ingests differ only in their path. */
  const ingestReferences = async (
    media: 'image' | 'video',
    batchId: string,
    body: ImageReferencesRequest | VideoReferencesRequest,
    opts: { displayName?: string },
  ) => {
    parseOrThrow(BatchIdSchema, batchId, 'batch id');
    const { ws, path } = await staging(`/batches/${enc(batchId)}/bulk-upload/${media}-references`);
    return http.call(`POST /batches/{batchId}/bulk-upload/${media}-references`, 'POST', path, {
      query: { displayName: opts.displayName ?? batchId },
      json: body,
      schema: ReferencesIngestResponse,
      // The official client gives the references ingests twice the usual timeout.
      timeoutMs: requestTimeoutMs * ROBOFLOW_API_DEFAULTS.referencesTimeoutFactor,
      workspace: ws,
      resource: batchRef(batchId),
    });
  };

  return {
    async requestVideoUploadUrl(batchId, fileName, opts = {}) {
      parseOrThrow(BatchIdSchema, batchId, 'batch id');
      const { ws, path } = await staging(`/batches/${enc(batchId)}/upload/video`);
      const res = await http.call('POST /batches/{batchId}/upload/video', 'POST', path, {
        query: { fileName, displayName: opts.displayName ?? batchId },
        schema: SignedUrlResponse,
        workspace: ws,
        resource: batchRef(batchId),
      });
      return res.signedURLDetails;
    },

    async uploadImage(batchId, fileName, file, opts = {}) {
      parseOrThrow(BatchIdSchema, batchId, 'batch id');
      const { ws, path } = await staging(`/batches/${enc(batchId)}/upload/image`);
      await http.call('POST /batches/{batchId}/upload/image', 'POST', path, {
        query: { fileName, displayName: opts.displayName ?? batchId },
        body: () => multipartFileBody(fileName, fileName, file),
        schema: OkResponse,
        workspace: ws,
        resource: batchRef(batchId),
      });
    },

    async requestShardUploadUrl(batchId, opts = {}) {
      parseOrThrow(BatchIdSchema, batchId, 'batch id');
      const { ws, path } = await staging(`/batches/${enc(batchId)}/bulk-upload/image-files`);
      const res = await http.call('POST /batches/{batchId}/bulk-upload/image-files', 'POST', path, {
        query: { displayName: opts.displayName ?? batchId },
        schema: SignedUrlResponse,
        workspace: ws,
        resource: batchRef(batchId),
      });
      return res.signedURLDetails;
    },

    ingestImageReferences: (batchId, body, opts = {}) => ingestReferences('image', batchId, body, opts),
    ingestVideoReferences: (batchId, body, opts = {}) => ingestReferences('video', batchId, body, opts),
  };
}
