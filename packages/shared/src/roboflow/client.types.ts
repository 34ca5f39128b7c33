/**
 * The contracts of the typed Roboflow client (built in client.ts from one module per API area) and of
 * the signed-URL transfers (signed-url.ts). Services code against these interfaces; tests drive the
 * implementations against the emulator or a local HTTP server.
 */
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Logger } from 'pino';
import type { ApiOutageInfo } from './outage.js';
import type {
  BatchMetadata,
  BatchPart,
  FileMetadata,
  ImageReferencesRequest,
  ReferencesIngestResponse,
  ShardDetails,
  SignedUrlDetails,
  VideoReferencesRequest,
} from '../api/staging.schema.js';
import type {
  GetJobResponse,
  JobLog,
  JobMetadata,
  JobStageDetails,
  JobState,
  LogSeverity,
  RestartOverrides,
  StartJobBody,
  TaskStatus,
} from '../api/jobs.schema.js';

export interface RetryPolicy {
  /** Attempts in all, the first included. @defaultValue ROBOFLOW_API_DEFAULTS.retry.maxAttempts */
  maxAttempts: number;
  /** First backoff; doubles per attempt with full jitter. @defaultValue ROBOFLOW_API_DEFAULTS.retry.baseDelayMs */
  baseDelayMs: number;
  /** No retry starts after this much time since the first attempt. @defaultValue ROBOFLOW_API_DEFAULTS.retry.deadlineMs */
  deadlineMs: number;
}

export interface RoboflowClientOptions {
  apiUrl: string;
  apiKey: string;
  /** Workspace slug; discovered with `GET /?api_key=` when absent. */
  workspace?: string;
  /** undici dispatcher (an Agent, a MockAgent, a ProxyAgent). @defaultValue a shared keep-alive Agent */
  dispatcher?: Dispatcher;
  /** Limit of one exchange, per attempt. @defaultValue ROBOFLOW_API_DEFAULTS.requestTimeoutMs */
  requestTimeoutMs?: number;
  /** Connect limit of the client's own Agent (unused with an injected dispatcher). @defaultValue ROBOFLOW_API_DEFAULTS.connectTimeoutMs */
  connectTimeoutMs?: number;
  /** Overrides single fields of the retry policy. @defaultValue ROBOFLOW_API_DEFAULTS.retry */
  retry?: Partial<RetryPolicy>;
  /** Requests per second this client sends at most, spaced evenly (0 = unlimited). @defaultValue 0 */
  rateLimitPerSecond?: number;
  logger?: Logger;
  /** Called when the server asks us to slow down (429 / Retry-After), e.g. to rate-limit a whole queue. */
  onRateLimited?: (retryAfterMs: number) => void;
  /** Called after every HTTP exchange (for metrics): endpoint template, status (0 = no answer), duration. */
  onRequest?: (event: { endpoint: string; status: number; durationMs: number; attempt: number }) => void;
  /** Called when the API stops answering (with since/until, on every unanswered attempt) and once when it answers again (undefined). */
  onOutage?: (outage: ApiOutageInfo | undefined) => void;
}

/** How a paginated listing is read: the page size asked of the server, and at most how many pages. */
export interface PageOptions {
  /** The `pageSize` query parameter. @defaultValue the server's */
  pageSize?: number;
  /** Stop after this many pages (at least 1). @defaultValue every page */
  maxPages?: number;
}

export interface RoboflowClient {
  /** The workspace slug (discovered once, then cached). */
  workspace(): Promise<string>;

  // Data Staging (§2)
  requestVideoUploadUrl(
    batchId: string,
    fileName: string,
    opts?: { displayName?: string },
  ): Promise<SignedUrlDetails>;
  /** Multipart upload of one image, the form field named after the file (as the official client does). */
  uploadImage(
    batchId: string,
    fileName: string,
    body: { stream: () => Readable; size: number },
    opts?: { displayName?: string },
  ): Promise<void>;
  requestShardUploadUrl(batchId: string, opts?: { displayName?: string }): Promise<SignedUrlDetails>;
  ingestImageReferences(
    batchId: string,
    body: ImageReferencesRequest,
    opts?: { displayName?: string },
  ): Promise<ReferencesIngestResponse>;
  ingestVideoReferences(
    batchId: string,
    body: VideoReferencesRequest,
    opts?: { displayName?: string },
  ): Promise<ReferencesIngestResponse>;
  listBatches(opts?: PageOptions): AsyncIterable<BatchMetadata>;
  getBatch(batchId: string): Promise<BatchMetadata>;
  countBatch(batchId: string, opts?: { partName?: string }): Promise<number>;
  listShards(batchId: string, opts?: PageOptions): AsyncIterable<ShardDetails>;
  listParts(batchId: string): Promise<BatchPart[]>;
  listFiles(batchId: string, opts?: PageOptions & { partName?: string }): AsyncIterable<FileMetadata>;

  // Batch Processing (§3)
  listJobs(opts?: PageOptions): AsyncIterable<JobMetadata>;
  /** A Workflow job on a staged batch, or a TRT compilation (`trt-compilation-v1`). */
  startJob(jobId: string, body: StartJobBody, opts?: { name?: string }): Promise<void>;
  /** The raw response plus the normalised state (either response shape of §8). */
  getJob(jobId: string): Promise<{ raw: GetJobResponse; job: JobMetadata | undefined; state: JobState }>;
  listStages(jobId: string): Promise<JobStageDetails[]>;
  listTasks(jobId: string, stageId: string, opts?: PageOptions): AsyncIterable<TaskStatus>;
  abortJob(jobId: string): Promise<unknown>;
  /** No body is sent when `overrides` is undefined (as the official client does). */
  restartJob(jobId: string, overrides?: RestartOverrides): Promise<unknown>;
  listLogs(jobId: string, opts?: PageOptions & { severity?: LogSeverity }): AsyncIterable<JobLog>;
}

export interface SignedUploadOptions {
  dispatcher?: Dispatcher;
  signal?: AbortSignal;
  /** Called as body bytes leave, with the number of bytes since the last call. */
  onProgress?: (bytes: number) => void;
  /** Limit of silence while sending or waiting. @defaultValue ROBOFLOW_API_DEFAULTS.transferTimeoutMs */
  timeoutMs?: number;
}

/** PUT (or `details.method`) a stream of exactly `contentLength` bytes with every extension header. */
export type UploadToSignedUrl = (
  details: SignedUrlDetails,
  body: Readable,
  contentLength: number,
  opts?: SignedUploadOptions,
) => Promise<void>;

/** Connections several downloads share: `acquire` waits for one, `tryAcquire` takes one only if free. */
export interface ConnectionLimiter {
  acquire(signal?: AbortSignal): Promise<void>;
  tryAcquire(): boolean;
  release(): void;
}

/** How one download may use several ranged GETs at once (ranged-download.ts). */
export interface RangedDownloadOptions {
  /** Connections per file, the first included; 1 = one stream, as without this option. */
  connections: number;
  /** Files smaller than this stay on the first stream. @defaultValue 1 MiB */
  minBytes?: number;
  /** Largest part one ranged GET asks for. @defaultValue 8 MiB */
  partBytes?: number;
  /** How long the first stream runs alone: more connections join only if it would need longer. @defaultValue 100 */
  probeMs?: number;
  /** Shared by the downloads of a process: the first connection waits for it, the others only take a free one. */
  limiter?: ConnectionLimiter;
}

/**
 * Stream `url` into `<dest>.part`, check the length against Content-Length (and `expectedBytes`),
 * fsync, rename to `dest`. Returns the byte count. A 403/404/410 is an ApiError with that status.
 * With `range.connections` > 1, a large file is fetched in parts over several ranged GETs.
 */
export type DownloadToFile = (
  url: string,
  dest: string,
  opts?: {
    dispatcher?: Dispatcher;
    signal?: AbortSignal;
    expectedBytes?: number;
    /** @defaultValue ROBOFLOW_API_DEFAULTS.transferTimeoutMs */
    timeoutMs?: number;
    onProgress?: (bytes: number) => void;
    range?: RangedDownloadOptions;
  },
) => Promise<number>;

export type DownloadOptions = NonNullable<Parameters<DownloadToFile>[2]>;
