/** Batch Processing API shapes (roboflow-api.md §3, §4, §8, §9). */
import { z } from 'zod';
import { Timestamp } from './timestamp.js';

const NextPageToken = z.string().nullish();
const Envelope = { status: z.string().optional() };

export const MachineType = z.enum(['cpu', 'gpu']);

export const ComputeConfigurationV2 = z.object({
  type: z.literal('compute-configuration-v2'),
  machineType: MachineType.optional(),
  workersPerMachine: z.number().int().min(1).optional(),
});

export const StagingBatchInputV1 = z.object({
  type: z.literal('staging-batch-input-v1'),
  batchId: z.string().min(1),
  partName: z.string().optional(),
  imagesMetadataPart: z.string().optional(),
});

export const WorkflowsProcessingSpecificationV1 = z.object({
  type: z.literal('workflows-processing-specification-v1'),
  workspace: z.string().min(1),
  workflowId: z.string().min(1),
  workflowParameters: z.record(z.string(), z.unknown()).optional(),
  imageInputName: z.string().optional(),
  persistImagesOutputs: z.boolean().optional(),
  imagesOutputsToBePersisted: z.array(z.string()).optional(),
  aggregationFormat: z.enum(['csv', 'jsonl']).optional(),
  maxVideoFPS: z.number().positive().optional(),
  imagesMetadataInputsMapping: z.record(z.string(), z.string()).optional(),
});

const WorkflowJobCommon = {
  jobInput: StagingBatchInputV1,
  computeConfiguration: ComputeConfigurationV2,
  processingSpecification: WorkflowsProcessingSpecificationV1,
  processingTimeoutSeconds: z.number().int().positive().optional(),
  maxParallelTasks: z.number().int().positive().optional(),
  notificationsURL: z.string().optional(),
  inferenceBackend: z.enum(['inference-models', 'old-inference']).optional(),
};

/** The job bodies of `POST /jobs/{id}`, discriminated by `type` (§4). Unknown keys are refused. */
export const ImageProcessingJobV1 = z.strictObject({
  type: z.literal('simple-image-processing-v1'),
  ...WorkflowJobCommon,
  maxImageFailureRate: z.number().min(0).max(1).optional(),
});
export const VideoProcessingJobV1 = z.strictObject({
  type: z.literal('simple-video-processing-v1'),
  ...WorkflowJobCommon,
});
export const JobBody = z.discriminatedUnion('type', [ImageProcessingJobV1, VideoProcessingJobV1]);
export type JobBody = z.infer<typeof JobBody>;

/** Devices a TRT compilation may target (the official client's `CompilationDevice`). */
export const CompilationDevice = z.enum(['nvidia-t4', 'nvidia-l4', 'nvidia-l40s']);
export type CompilationDevice = z.infer<typeof CompilationDevice>;
/** The server's devices when a TRT job names none (roboflow-api.md §4). */
export const DEFAULT_COMPILATION_DEVICES: readonly CompilationDevice[] = ['nvidia-t4', 'nvidia-l4'];

/**
 * A TensorRT compilation of a model (`trt-compile`): no input batch, nothing to export. The
 * discriminator is the one the official client sends (the old Swagger's `TRT_COMPILATION_V1` is not).
 */
export const TrtCompilationJobV1 = z.strictObject({
  type: z.literal('trt-compilation-v1'),
  modelId: z.string().min(1),
  compilationDevices: z.array(CompilationDevice).min(1).optional(),
  notificationsURL: z.string().optional(),
});
export type TrtCompilationJobV1 = z.infer<typeof TrtCompilationJobV1>;

/** Every body `POST /jobs/{id}` takes: a Workflow job or a TRT compilation. */
export const StartJobBody = z.discriminatedUnion('type', [
  ImageProcessingJobV1,
  VideoProcessingJobV1,
  TrtCompilationJobV1,
]);
export type StartJobBody = z.infer<typeof StartJobBody>;

export const RestartOverrides = z.strictObject({
  type: z.literal('parameters-override-v1'),
  computeConfiguration: ComputeConfigurationV2.optional(),
  maxParallelTasks: z.number().int().positive().optional(),
  processingTimeoutSeconds: z.number().positive().optional(),
  maxImageFailureRate: z.number().min(0).max(1).optional(),
});
export type RestartOverrides = z.infer<typeof RestartOverrides>;

const Notification = z.union([z.record(z.string(), z.unknown()), z.string()]);

export const JobMetadata = z.object({
  jobId: z.string(),
  name: z.string(),
  jobDefinition: z.record(z.string(), z.unknown()),
  currentStage: z.string().nullish(),
  plannedStages: z.array(z.string()).nullish(),
  error: z
    .boolean()
    .nullish()
    .transform((v) => v ?? false),
  isTerminal: z
    .boolean()
    .nullish()
    .transform((v) => v ?? false),
  lastNotification: Notification.nullish(),
  createdAt: Timestamp,
  lastUpdate: Timestamp,
  restartParametersOverride: z
    .array(z.record(z.string(), z.unknown()))
    .nullish()
    .transform((v) => v ?? []),
});
export type JobMetadata = z.infer<typeof JobMetadata>;

export const ListJobsResponse = z.object({
  ...Envelope,
  jobs: z.array(JobMetadata),
  nextPageToken: NextPageToken,
});

/**
 * `GET /jobs/{id}`: shape A (`{job:{…}}`, Swagger and the official client's only shape, with no job-level
 * progress) and/or shape B (`{jobStatus, progress}`, the seed reference). At least one must be present.
 */
export const GetJobResponse = z
  .object({
    ...Envelope,
    job: JobMetadata.optional(),
    jobStatus: z.string().optional(),
    progress: z.number().nullish(),
  })
  .refine((r) => r.job !== undefined || r.jobStatus !== undefined, {
    error: 'neither "job" nor "jobStatus" is present',
  });
export type GetJobResponse = z.infer<typeof GetJobResponse>;

export const JobStageDetails = z.object({
  processingStageId: z.string(),
  processingStageName: z.string(),
  tasksNumber: z.number().int(),
  outputBatches: z.array(z.string()),
  startTimestamp: Timestamp,
  notification: Notification.nullish(),
  statusType: z.string(),
  lastEventTimestamp: Timestamp,
});
export type JobStageDetails = z.infer<typeof JobStageDetails>;
export const ListStagesResponse = z.object({ ...Envelope, stages: z.array(JobStageDetails) });

export const TaskStatus = z.object({
  taskId: z.string(),
  notification: Notification.nullish(),
  statusType: z.string(),
  progress: z.number().nullish(),
  eventTimestamp: Timestamp,
});
export type TaskStatus = z.infer<typeof TaskStatus>;
export const ListTasksResponse = z.object({
  ...Envelope,
  tasks: z.array(TaskStatus),
  nextPageToken: NextPageToken,
});

export const LogSeverity = z.enum(['info', 'warning', 'error']);
export type LogSeverity = z.infer<typeof LogSeverity>;
export const JobLog = z.object({
  createdAt: Timestamp,
  severity: LogSeverity,
  reportingModule: z.string(),
  logType: z.string(),
  payload: z.record(z.string(), z.unknown()),
  processingStageId: z.string().nullish(),
  taskId: z.string().nullish(),
});
export type JobLog = z.infer<typeof JobLog>;
export const ListLogsResponse = z.object({
  ...Envelope,
  logs: z.array(JobLog),
  nextPageToken: NextPageToken,
});

/** The job's state as rfbatch reads it, whichever shape the server sent (§8). */
export const JobState = z.object({
  state: z.enum(['pending', 'processing', 'completed', 'failed']),
  stage: z.string().nullable(),
  progress: z.number().min(0).max(1).nullable(),
  terminal: z.boolean(),
  error: z.boolean(),
});
export type JobState = z.infer<typeof JobState>;

/** Webhook payloads (§9). */
export const JobNotification = z.object({
  type: z.literal('roboflow-batch-job-notification-v1'),
  event_id: z.string().min(1),
  job_id: z.string().min(1),
  job_state: z.enum(['success', 'fail']),
  delivery_attempt: z.number().int().min(1),
});
export const IngestStatusNotification = z.object({
  type: z.literal('ingest-status-notification-v1'),
  success: z.boolean(),
  error_details: z.object({ type: z.string(), reason: z.string() }).optional(),
});
export const FilesStatusNotification = z.object({
  type: z.literal('ingest-files-status-notification-v1'),
  success: z.boolean(),
  ingested_files: z.array(z.string()),
  failed_files: z.array(z.object({ type: z.string(), file_name: z.string(), reason: z.string() })),
  content_truncated: z.boolean(),
});
export const DataStagingNotification = z.object({
  type: z.literal('roboflow-data-staging-notification-v1'),
  event_id: z.string().min(1),
  ingest_id: z.string(),
  batch_id: z.string(),
  shard_id: z.string().nullable(),
  notification: z.discriminatedUnion('type', [IngestStatusNotification, FilesStatusNotification]),
  delivery_attempt: z.number().int().min(1),
});
export const WebhookPayload = z.discriminatedUnion('type', [JobNotification, DataStagingNotification]);
export type WebhookPayload = z.infer<typeof WebhookPayload>;
