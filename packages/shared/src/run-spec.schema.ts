import { z } from 'zod';
import { bucketUrlProblem, looksLikeUrl } from './bucket-url.js';
import { NotificationCategory } from './api/staging.schema.js';
import { notifyUserinfoProblem } from './notify-target.js';
import { redactUrl } from './redact.js';
import { BatchIdSchema, deriveBatchId, deriveJobId, JobIdSchema, newRunId, RunIdSchema } from './ids.js';

/** Media extensions the API accepts (roboflow-api.md §6). */
export const IMAGE_EXTENSIONS = ['jpg', 'jpeg', 'png', 'webp', 'bmp', 'jp2'] as const;
export const VIDEO_EXTENSIONS = ['mp4', 'mov', 'avi', 'mkv', 'flv', 'wmv', 'm4v'] as const;
/** Largest single image the API takes (`file-size-limit-exceeded` above it). */
export const MAX_IMAGE_BYTES = 20 * 1024 * 1024;
/** Most images the API takes in one tar shard. */
export const MAX_SHARD_IMAGES = 500;
/**
 * Shards a run is split into by default when it is small enough: the ingest concurrency, so every
 * shard is in flight at once and the upload fills a link whose connections are each capped (a
 * signed-URL PUT rarely gets a whole link). bench:ingest, 2,000 images at 2 MB/s per connection: 32
 * shards took 4.4 s against the official client's 15.0 s (8 streams of 256-image shards).
 */
export const DEFAULT_TARGET_SHARDS = 32;
/** The fewest images a shard is cut to for parallelism (below it, a shard's fixed cost dominates). */
export const MIN_SPREAD_SHARD_IMAGES = 16;
/** Most references the official client sends in one ingest request. */
export const MAX_REFERENCES_PER_REQUEST = 20_000;
/** Longest batch display name we send (the API documents no limit; the job name's limit). */
export const BATCH_NAME_MAX = 200;
/** Our rule for a user's ingest id (the API documents none): short, and safe in a query or a tar member. */
export const INGEST_ID_RULE = /^[A-Za-z0-9._-]{1,100}$/;

export const MediaKind = z.enum(['images', 'videos']);
export type MediaKind = z.infer<typeof MediaKind>;

const DirectorySource = z.strictObject({
  kind: z.literal('directory'),
  /** Absolute path, or relative to the worker's working directory. Must be readable by ingest workers. */
  path: z.string().min(1, 'must name a folder'),
  media: MediaKind.default('images'),
  recursive: z.boolean().default(true),
  /** Extensions to keep (without dot, case-insensitive); defaults to every supported one of `media`. */
  include: z
    .array(z.string().regex(/^[A-Za-z0-9]{1,10}$/, 'an extension without the dot, e.g. "jpg"'))
    .optional(),
});

const ReferencesSource = z
  .strictObject({
    kind: z.literal('references'),
    media: MediaKind.default('images'),
    /** A local JSONL file of `{"name": ..., "url": ...}` lines. */
    path: z.string().min(1).optional(),
    /** An https URL of such a JSONL file, passed to the API as `imageReferencesURL`. */
    url: z.url({ protocol: /^https$/, error: 'must be an https:// URL' }).optional(),
  })
  .refine((s) => (s.path === undefined) !== (s.url === undefined), {
    error: 'give exactly one of "path" (a local JSONL file) or "url" (an https JSONL URL)',
  });

/**
 * Nothing local: the items are already in a staging batch (`batchId`, staged by `rfbatch stage`, the
 * official CLI or anything else), or a job started elsewhere is adopted (`adoptJob`). Results are
 * keyed by the remote file names, as there is no manifest of local files.
 */
const StagedSource = z.strictObject({
  kind: z.literal('staged'),
  media: MediaKind.default('images'),
  /** The part of a multipart batch to process (the job's `jobInput.partName`). */
  partName: z.string().min(1).optional(),
  /** The part holding images metadata, and the Workflow inputs it feeds (`imagesMetadataInputsMapping`). */
  imagesMetadataPart: z.string().min(1).optional(),
  imagesMetadataInputsMapping: z.record(z.string(), z.string()).optional(),
});

/** Default and longest life of a presigned GET sent as a reference (the official client's 24 h; S3's 7 d cap). */
export const DEFAULT_PRESIGN_SECONDS = 24 * 3600;
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

/**
 * Objects in a bucket: `s3://bucket/prefix/`, `gs://…`, `az://container/prefix/`, optionally with a glob
 * (`s3://bucket/photos/**\/*.jpg`). Credentials come only from the workers' environment (each SDK's
 * standard chain). `references` (default): each object is presigned and sent as a reference, so no byte
 * passes through rfbatch; `stream`: the workers read the objects and upload them as tar shards (for
 * buckets the API must not reach).
 */
const BucketSource = z.strictObject({
  kind: z.literal('bucket'),
  url: z.string().superRefine((url, ctx) => {
    const problem = bucketUrlProblem(url);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
  media: MediaKind.default('images'),
  mode: z.enum(['references', 'stream']).default('references'),
  /** Life of each presigned URL (references mode); a retry after it re-presigns. */
  presignSeconds: z.number().int().min(900).max(MAX_PRESIGN_SECONDS).default(DEFAULT_PRESIGN_SECONDS),
  /** Extensions to keep (without dot, case-insensitive); defaults to every supported one of `media`. */
  include: z
    .array(z.string().regex(/^[A-Za-z0-9]{1,10}$/, 'an extension without the dot, e.g. "jpg"'))
    .optional(),
});

export const SourceSchema = z.discriminatedUnion('kind', [
  DirectorySource,
  ReferencesSource,
  BucketSource,
  StagedSource,
]);
export type Source = z.infer<typeof SourceSchema>;

export const WorkflowSchema = z.strictObject({
  workflowId: z.string().min(1, 'must name a Workflow'),
  parameters: z.record(z.string(), z.unknown()).optional(),
  imageInputName: z.string().min(1).optional(),
  aggregationFormat: z.enum(['jsonl', 'csv']).default('jsonl'),
  /** Frames per second to sample from videos (video runs only). */
  maxVideoFPS: z.number().positive().max(240).optional(),
  persistImagesOutputs: z.boolean().optional(),
  imagesOutputsToBePersisted: z.array(z.string()).optional(),
});

export const ComputeSchema = z.strictObject({
  machineType: z.enum(['cpu', 'gpu']).default('cpu'),
  workersPerMachine: z.number().int().min(1).max(64).optional(),
});

export const UploadOptionsSchema = z.strictObject({
  /** Folders with at most this many images go by single-image upload (a simple batch). */
  singleUploadMaxImages: z.number().int().min(0).max(5_000).default(32),
  /**
   * Images per tar shard (at most the API's 500). Unset: chosen for parallelism — a run is cut into
   * `targetShards` even shards of at least 16 images, or into 500-image shards when that already
   * makes more (see shardImagesFor).
   */
  shardMaxImages: z.number().int().min(1).max(MAX_SHARD_IMAGES).optional(),
  /** With `shardMaxImages` unset: how many shards a small run is cut into (upload streams at once). */
  targetShards: z.number().int().min(1).max(10_000).default(DEFAULT_TARGET_SHARDS),
  /** Bytes per tar shard (payload), so one PUT stays a sensible size. */
  shardMaxBytes: z
    .number()
    .int()
    .min(1024 * 1024)
    .default(512 * 1024 * 1024),
  /** Files per single-upload job. */
  filesPerJob: z.number().int().min(1).max(10_000).default(200),
});

/**
 * Images per shard for a run of `images` images (undefined: more than the planner looked ahead at,
 * `targetShards × 500` up to 32,000): the user's `shardMaxImages` when set; else `images / targetShards` rounded
 * up, within [16, 500]. 2,000 images → 32 shards of 63; 10,000 → 32 of 313; 10^6 → 2,000 of 500.
 */
export function shardImagesFor(
  upload: Pick<z.output<typeof UploadOptionsSchema>, 'shardMaxImages' | 'targetShards'>,
  images: number | undefined,
): number {
  if (upload.shardMaxImages !== undefined) return upload.shardMaxImages;
  if (images === undefined) return MAX_SHARD_IMAGES;
  const even = Math.ceil(images / upload.targetShards);
  return Math.min(MAX_SHARD_IMAGES, Math.max(MIN_SPREAD_SHARD_IMAGES, even));
}

/** The most items the planner holds in memory to learn a run's size (about 10 MB of paths). */
const MAX_SHARD_LOOKAHEAD = 32_000;

/**
 * How many images the planner holds back to learn a run's size before it cuts shards: enough to know
 * whether `targetShards` shards of 500 are reached, at most 32,000 (beyond 64 target shards a larger
 * run simply gets 500-image shards).
 */
export function shardLookahead(
  upload: Pick<z.output<typeof UploadOptionsSchema>, 'shardMaxImages' | 'targetShards'>,
): number {
  if (upload.shardMaxImages !== undefined) return 0;
  return Math.min(MAX_SHARD_LOOKAHEAD, upload.targetShards * MAX_SHARD_IMAGES);
}

/**
 * The public contract of a run: "process this source with this Workflow and put the results here".
 * It never carries credentials; those come from the worker's environment.
 */
export const RunSpecSchema = z.strictObject({
  runId: RunIdSchema.optional(),
  source: SourceSchema,
  batchId: BatchIdSchema.optional(),
  jobId: JobIdSchema.optional(),
  /** Display name of the job (the API's `name`). */
  jobName: z.string().min(1).max(200).optional(),
  workflow: WorkflowSchema,
  compute: ComputeSchema.prefault({}),
  /** Cumulative machine time for the whole job, split across chunks by the service. */
  processingTimeoutSeconds: z
    .number()
    .int()
    .min(60)
    .max(7 * 24 * 3600)
    .optional(),
  /**
   * A job still running when the await budget (its processing timeout plus a margin) runs out is
   * aborted, so it stops costing credits; true keeps it running (the run fails either way).
   */
  keepJobOnTimeout: z.boolean().optional(),
  maxParallelTasks: z.number().int().min(1).max(10_000).optional(),
  maxImageFailureRate: z.number().min(0).max(1).optional(),
  /** The job's `inferenceBackend`. */
  inferenceBackend: z.enum(['inference-models', 'old-inference']).optional(),
  output: z.strictObject({
    /** A folder, or a bucket prefix (`s3://bucket/results/`, no glob) that receives the same files as objects. */
    dir: z
      .string()
      .min(1, 'must name a folder for the results')
      .superRefine((dir, ctx) => {
        if (!looksLikeUrl(dir)) return;
        const problem = bucketUrlProblem(dir, { allowGlob: false });
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }),
    extract: z.boolean().default(true),
  }),
  /** An http(s) URL that receives the run summary when the run ends. */
  notify: z
    .url({ protocol: /^https?$/ })
    .superRefine((url, ctx) => {
      const problem = notifyUserinfoProblem(url);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
  /**
   * Display name of the staging batch (the official `--batch-name`), sent as `displayName` with every
   * upload call (single image, video and shard URL requests, references ingests). Default: the batch id.
   */
  batchName: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(BATCH_NAME_MAX, `at most ${BATCH_NAME_MAX} characters`)
    .optional(),
  /**
   * Ingest id of the staging (the official `--ingest-id`): tar shards carry it as it is, each references
   * request as `<ingestId>-<chunk>`. Default: `rfb-<runId>`.
   */
  ingestId: z
    .string()
    .regex(INGEST_ID_RULE, {
      error: (issue) =>
        `ingest id ${JSON.stringify(issue.input)} breaks the rule: 1 to 100 characters of A-Z, a-z, 0-9, ".", "_" and "-"`,
    })
    .optional(),
  /**
   * The user's own webhook for the API's notifications (the official `--notifications-url` and
   * `--notification-category`): the ingest's (references bodies and each tar shard's
   * notification_config.json) and the job's `notificationsURL`. It replaces rfbatch's gateway webhook,
   * which then follows the run by polling. A secret like `notify`: kept apart in the store, redacted in
   * every view and log.
   */
  notifications: z
    .strictObject({
      url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).superRefine((url, ctx) => {
        const problem = notifyUserinfoProblem(url);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }),
      /** Which ingest notifications the API sends (references ingests only; the API's default is ingest-status). */
      categories: z.array(NotificationCategory).min(1).optional(),
    })
    .optional(),
  upload: UploadOptionsSchema.prefault({}),
  /**
   * Where the run ends early: `verify` stages the source and stops once the batch is indexed
   * (`rfbatch stage`); `adopt` starts nothing and follows the job `jobId` started elsewhere (`rfbatch run --job`).
   */
  mode: z.enum(['stage-only', 'adopt-job']).optional(),
});

/** A RunSpec as producers write it (defaults may be omitted). */
export type RunSpecInput = z.input<typeof RunSpecSchema>;
/** A RunSpec after parsing (defaults filled). */
export type RunSpec = z.output<typeof RunSpecSchema>;
/** A RunSpec whose ids are all settled (what is stored with the run). */
export type ResolvedRunSpec = RunSpec & { runId: string; batchId: string; jobId: string };

/** How a run with a staged source names what it runs on: `batch b1 (part p)` or `job j1`. */
export function stagedSourceLabel(spec: Pick<RunSpec, 'source' | 'batchId' | 'jobId' | 'mode'>): string {
  if (spec.mode === 'adopt-job') return `job ${spec.jobId ?? '?'}`;
  const part = spec.source.kind === 'staged' && spec.source.partName ? ` (part ${spec.source.partName})` : '';
  return `batch ${spec.batchId ?? '?'}${part}`;
}

/**
 * What a run reads, in one phrase for people: the folder, the bucket URL, the references file (a
 * references URL without its signature) or the staged batch/job.
 */
export function sourceLabel(spec: Pick<RunSpec, 'source' | 'batchId' | 'jobId' | 'mode'>): string {
  const source = spec.source;
  switch (source.kind) {
    case 'directory':
      return source.path;
    case 'bucket':
      return source.url;
    case 'staged':
      return stagedSourceLabel(spec);
    case 'references':
      return source.path ?? redactUrl(source.url ?? '');
  }
}

/** JSON Schema of the RunSpec, for producers in other languages. */
export function runSpecJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(RunSpecSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
}

/** Settles the ids of a parsed spec: a new run id when absent, batch and job ids derived from it. */
export function resolveRunSpec(spec: RunSpec): ResolvedRunSpec {
  const runId = spec.runId ?? newRunId();
  return {
    ...spec,
    runId,
    batchId: spec.batchId ?? deriveBatchId(runId),
    jobId: spec.jobId ?? deriveJobId(runId),
  };
}
