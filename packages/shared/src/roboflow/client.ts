/**
 * The typed Roboflow client: every endpoint of roboflow-api.md §1–§3 over undici, each answer parsed
 * with its zod schema from api/*.schema.ts. Retries, error mapping and redaction live in http.ts.
 */
import { Agent, type Dispatcher } from 'undici';
import { z } from 'zod';
import {
  CountResponse,
  GetBatchResponse,
  ListBatchesResponse,
  ListFilesResponse,
  ListPartsResponse,
  ListShardsResponse,
  OkResponse,
  ReferencesIngestResponse,
  SignedUrlResponse,
  WorkspaceResponse,
  type ImageReferencesRequest,
  type VideoReferencesRequest,
} from '../api/staging.schema.js';
import {
  GetJobResponse,
  JobBody,
  ListJobsResponse,
  ListLogsResponse,
  ListStagesResponse,
  ListTasksResponse,
  RestartOverrides,
} from '../api/jobs.schema.js';
import { BatchIdSchema, JobIdSchema } from '../ids.js';
import { registerSecret } from '../redact.js';
import { parseOrThrow } from '../validation.js';
import type { RoboflowClient, RoboflowClientOptions } from './client.types.js';
import { createHttp } from './http.js';
import { normaliseJobState } from './job-state.js';
import { multipartFileBody } from './multipart.js';
import { paginate } from './paginate.js';
import { DEFAULT_RETRY_POLICY, type Sleep } from './retry.js';

export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** An arbitrary JSON answer (abort, restart): anything parses. */
const AnyResponse = z.unknown();

/** The client plus `close()`, which closes the keep-alive Agent the client made (not an injected one). */
export interface ClosableRoboflowClient extends RoboflowClient {
  close(): Promise<void>;
}

/** Options of createRoboflowClient beyond the shared interface (tests record waits instead of sleeping). */
export interface RoboflowClientInternals {
  sleep?: Sleep;
}

const enc = encodeURIComponent;

export function createRoboflowClient(
  options: RoboflowClientOptions & RoboflowClientInternals,
): ClosableRoboflowClient {
  registerSecret(options.apiKey);
  const ownAgent = options.dispatcher
    ? undefined
    : new Agent({
        keepAliveTimeout: 30_000,
        connect: { timeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS },
      });
  const dispatcher: Dispatcher = options.dispatcher ?? (ownAgent as Agent);
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const http = createHttp({
    apiUrl: options.apiUrl,
    apiKey: options.apiKey,
    dispatcher,
    requestTimeoutMs,
    retry: { ...DEFAULT_RETRY_POLICY, ...options.retry },
    logger: options.logger,
    onRateLimited: options.onRateLimited,
    onRequest: options.onRequest,
    sleep: options.sleep,
    rateLimitPerSecond: options.rateLimitPerSecond,
  });

  let workspacePromise: Promise<string> | undefined = options.workspace
    ? Promise.resolve(options.workspace)
    : undefined;
  function workspace(): Promise<string> {
    workspacePromise ??= http.call('GET /', 'GET', '/', { schema: WorkspaceResponse }).then(
      (r) => r.workspace,
      (error: unknown) => {
        workspacePromise = undefined; // a failed discovery is tried again on the next call
        throw error;
      },
    );
    return workspacePromise;
  }

  const staging = async (rest: string) => {
    const ws = await workspace();
    return { ws, path: `/data-staging/v1/external/${enc(ws)}${rest}` };
  };
  const processing = async (rest: string) => {
    const ws = await workspace();
    return { ws, path: `/batch-processing/v1/external/${enc(ws)}${rest}` };
  };
  const batchRef = (batchId: string) => `batch "${batchId}"`;
  const jobRef = (jobId: string) => `job "${jobId}"`;

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
      timeoutMs: requestTimeoutMs * 2,
      workspace: ws,
      resource: batchRef(batchId),
    });
  };

  const client: ClosableRoboflowClient = {
    workspace,

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

    listBatches(opts = {}) {
      return paginate('GET /batches', async (nextPageToken) => {
        const { ws, path } = await staging('/batches');
        const res = await http.call('GET /batches', 'GET', path, {
          query: { pageSize: opts.pageSize, nextPageToken },
          schema: ListBatchesResponse,
          workspace: ws,
        });
        return { items: res.batches, nextPageToken: res.nextPageToken };
      });
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
      return paginate(`GET /batches/${batchId}/shards`, async (nextPageToken) => {
        const { ws, path } = await staging(`/batches/${enc(batchId)}/shards`);
        const res = await http.call('GET /batches/{batchId}/shards', 'GET', path, {
          query: { pageSize: opts.pageSize, nextPageToken },
          schema: ListShardsResponse,
          workspace: ws,
          resource: batchRef(batchId),
        });
        return { items: res.shards, nextPageToken: res.nextPageToken };
      });
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
      return paginate(`GET /batches/${batchId}/list`, async (nextPageToken) => {
        const { ws, path } = await staging(`/batches/${enc(batchId)}/list`);
        const res = await http.call('GET /batches/{batchId}/list', 'GET', path, {
          query: { pageSize: opts.pageSize, nextPageToken, partName: opts.partName },
          schema: ListFilesResponse,
          workspace: ws,
          resource: batchRef(batchId),
        });
        return { items: res.filesMetadata, nextPageToken: res.nextPageToken };
      });
    },

    listJobs(opts = {}) {
      return paginate('GET /jobs', async (nextPageToken) => {
        const { ws, path } = await processing('/jobs');
        const res = await http.call('GET /jobs', 'GET', path, {
          query: { pageSize: opts.pageSize, nextPageToken },
          schema: ListJobsResponse,
          workspace: ws,
        });
        return { items: res.jobs, nextPageToken: res.nextPageToken };
      });
    },

    async startJob(jobId, body, opts = {}) {
      parseOrThrow(JobIdSchema, jobId, 'job id');
      const checked = parseOrThrow(JobBody, body, 'job body');
      const { ws, path } = await processing(`/jobs/${enc(jobId)}`);
      await http.call('POST /jobs/{jobId}', 'POST', path, {
        query: { name: opts.name },
        json: checked,
        schema: OkResponse,
        workspace: ws,
        resource: jobRef(jobId),
      });
    },

    async getJob(jobId) {
      const { ws, path } = await processing(`/jobs/${enc(jobId)}`);
      const raw = await http.call('GET /jobs/{jobId}', 'GET', path, {
        schema: GetJobResponse,
        workspace: ws,
        resource: jobRef(jobId),
      });
      return { raw, job: raw.job, state: normaliseJobState(raw) };
    },

    async listStages(jobId) {
      const { ws, path } = await processing(`/jobs/${enc(jobId)}/stages`);
      const res = await http.call('GET /jobs/{jobId}/stages', 'GET', path, {
        schema: ListStagesResponse,
        workspace: ws,
        resource: jobRef(jobId),
      });
      return res.stages;
    },

    listTasks(jobId, stageId, opts = {}) {
      return paginate(`GET /jobs/${jobId}/stages/${stageId}/tasks`, async (nextPageToken) => {
        const { ws, path } = await processing(`/jobs/${enc(jobId)}/stages/${enc(stageId)}/tasks`);
        const res = await http.call('GET /jobs/{jobId}/stages/{stageId}/tasks', 'GET', path, {
          query: { pageSize: opts.pageSize, nextPageToken },
          schema: ListTasksResponse,
          workspace: ws,
          resource: `stage "${stageId}" of ${jobRef(jobId)}`,
        });
        return { items: res.tasks, nextPageToken: res.nextPageToken };
      });
    },

    async abortJob(jobId) {
      const { ws, path } = await processing(`/jobs/${enc(jobId)}/abort`);
      return http.call('POST /jobs/{jobId}/abort', 'POST', path, {
        schema: AnyResponse,
        workspace: ws,
        resource: jobRef(jobId),
      });
    },

    async restartJob(jobId, overrides) {
      const json =
        overrides === undefined ? undefined : parseOrThrow(RestartOverrides, overrides, 'restart overrides');
      const { ws, path } = await processing(`/jobs/${enc(jobId)}/restart`);
      return http.call('POST /jobs/{jobId}/restart', 'POST', path, {
        json,
        schema: AnyResponse,
        workspace: ws,
        resource: jobRef(jobId),
      });
    },

    listLogs(jobId, opts = {}) {
      return paginate(`GET /jobs/${jobId}/logs`, async (nextPageToken) => {
        const { ws, path } = await processing(`/jobs/${enc(jobId)}/logs`);
        const res = await http.call('GET /jobs/{jobId}/logs', 'GET', path, {
          query: { pageSize: opts.pageSize, severity: opts.severity, nextPageToken },
          schema: ListLogsResponse,
          workspace: ws,
          resource: jobRef(jobId),
        });
        return { items: res.logs, nextPageToken: res.nextPageToken };
      });
    },

    async close() {
      await ownAgent?.close();
    },
  };
  return client;
}
