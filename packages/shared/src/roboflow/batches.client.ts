/**
 * Reading staging batches (roboflow-api.md §2.6–§2.11): the batch list, one batch, its count, shards,
 * parts and files. The file listing carries the signed download URLs of a job's output.
 */
import {
  CountResponse,
  GetBatchResponse,
  ListBatchesResponse,
  ListFilesResponse,
  ListPartsResponse,
  ListShardsResponse,
} from '../api/staging.schema.js';
import { batchRef, enc, type ClientContext } from './client-context.js';
import type { RoboflowClient } from './client.types.js';
import { paginate } from './paginate.js';

/** The batch-reading endpoints, as a part of RoboflowClient. */
export type BatchesClient = Pick<
  RoboflowClient,
  'listBatches' | 'getBatch' | 'countBatch' | 'listShards' | 'listParts' | 'listFiles'
>;

/** The batch-reading endpoints of the client, over the transport and paths of `context`. */
export function createBatchesClient({ http, staging }: ClientContext): BatchesClient {
  return {
    listBatches(opts = {}) {
      return paginate(
        'GET /batches',
        async (nextPageToken) => {
          const { ws, path } = await staging('/batches');
          const res = await http.call('GET /batches', 'GET', path, {
            query: { pageSize: opts.pageSize, nextPageToken },
            schema: ListBatchesResponse,
            workspace: ws,
          });
          return { items: res.batches, nextPageToken: res.nextPageToken };
        },
        opts.maxPages,
      );
    },

    async getBatch(batchId) {
      const { ws, path } = await staging(`/batches/${enc(batchId)}`);
      const res = await http.call('GET /batches/{batchId}', 'GET', path, {
        schema: GetBatchResponse,
        workspace: ws,
        resource: batchRef(batchId),
      });
      return res.batch;
    },

    async countBatch(batchId, opts = {}) {
      const { ws, path } = await staging(`/batches/${enc(batchId)}/count`);
      const res = await http.call('GET /batches/{batchId}/count', 'GET', path, {
        query: { partName: opts.partName },
        schema: CountResponse,
        workspace: ws,
        resource: batchRef(batchId),
      });
      return res.count;
    },

    listShards(batchId, opts = {}) {
      return paginate(
        `GET /batches/${batchId}/shards`,
        async (nextPageToken) => {
          const { ws, path } = await staging(`/batches/${enc(batchId)}/shards`);
          const res = await http.call('GET /batches/{batchId}/shards', 'GET', path, {
            query: { pageSize: opts.pageSize, nextPageToken },
            schema: ListShardsResponse,
            workspace: ws,
            resource: batchRef(batchId),
          });
          return { items: res.shards, nextPageToken: res.nextPageToken };
        },
        opts.maxPages,
      );
    },

    async listParts(batchId) {
      const { ws, path } = await staging(`/batches/${enc(batchId)}/parts`);
      const res = await http.call('GET /batches/{batchId}/parts', 'GET', path, {
        schema: ListPartsResponse,
        workspace: ws,
        resource: batchRef(batchId),
      });
      return res.batchParts;
    },

    listFiles(batchId, opts = {}) {
      return paginate(
        `GET /batches/${batchId}/list`,
        async (nextPageToken) => {
          const { ws, path } = await staging(`/batches/${enc(batchId)}/list`);
          const res = await http.call('GET /batches/{batchId}/list', 'GET', path, {
            query: { pageSize: opts.pageSize, nextPageToken, partName: opts.partName },
            schema: ListFilesResponse,
            workspace: ws,
            resource: batchRef(batchId),
          });
          return { items: res.filesMetadata, nextPageToken: res.nextPageToken };
        },
        opts.maxPages,
      );
    },
  };
}
