import type { Config } from '../config.js';
import type { ResolvedRunSpec } from '../run-spec.schema.js';
import { JobBody } from './jobs.schema.js';

/**
 * The webhook URL for job notifications: the gateway's public route, only when a public URL is
 * configured (Roboflow cannot reach a gateway bound to localhost).
 */
export function webhookUrl(config: Pick<Config, 'gateway'>): string | undefined {
  const { publicUrl, webhookSecret } = config.gateway;
  if (!publicUrl || !webhookSecret) return undefined;
  return `${publicUrl}/webhooks/roboflow/${webhookSecret}`;
}

/**
 * The full `POST /jobs/{jobId}` body for a run (roboflow-api.md §4): an image job, or a video job
 * for video sources. Deterministic for a given spec, so a repeated start sends the same body and the
 * API treats it as the same job. Validated against the API schema before it leaves. The job's
 * `notificationsURL` is the user's own (`spec.notifications.url`) when given, else `notifyUrl` (the
 * gateway's webhook).
 */
export function buildJobBody(spec: ResolvedRunSpec, workspace: string, notifyUrl?: string): JobBody {
  const notificationsURL = spec.notifications?.url ?? notifyUrl;
  const video = spec.source.media === 'videos';
  const wf = spec.workflow;
  const staged = spec.source.kind === 'staged' ? spec.source : undefined;
  const common = {
    jobInput: {
      type: 'staging-batch-input-v1' as const,
      batchId: spec.batchId,
      ...(staged?.partName !== undefined ? { partName: staged.partName } : {}),
      ...(staged?.imagesMetadataPart !== undefined ? { imagesMetadataPart: staged.imagesMetadataPart } : {}),
    },
    computeConfiguration: {
      type: 'compute-configuration-v2' as const,
      machineType: spec.compute.machineType,
      ...(spec.compute.workersPerMachine !== undefined
        ? { workersPerMachine: spec.compute.workersPerMachine }
        : {}),
    },
    processingSpecification: {
      type: 'workflows-processing-specification-v1' as const,
      workspace,
      workflowId: wf.workflowId,
      ...(wf.parameters !== undefined ? { workflowParameters: wf.parameters } : {}),
      ...(wf.imageInputName !== undefined ? { imageInputName: wf.imageInputName } : {}),
      ...(wf.persistImagesOutputs !== undefined ? { persistImagesOutputs: wf.persistImagesOutputs } : {}),
      ...(wf.imagesOutputsToBePersisted !== undefined
        ? { imagesOutputsToBePersisted: wf.imagesOutputsToBePersisted }
        : {}),
      aggregationFormat: wf.aggregationFormat,
      ...(video && wf.maxVideoFPS !== undefined ? { maxVideoFPS: wf.maxVideoFPS } : {}),
      ...(staged?.imagesMetadataInputsMapping !== undefined
        ? { imagesMetadataInputsMapping: staged.imagesMetadataInputsMapping }
        : {}),
    },
    ...(spec.inferenceBackend !== undefined ? { inferenceBackend: spec.inferenceBackend } : {}),
    ...(spec.processingTimeoutSeconds !== undefined
      ? { processingTimeoutSeconds: spec.processingTimeoutSeconds }
      : {}),
    ...(spec.maxParallelTasks !== undefined ? { maxParallelTasks: spec.maxParallelTasks } : {}),
    ...(notificationsURL ? { notificationsURL } : {}),
  };
  const body = video
    ? { type: 'simple-video-processing-v1' as const, ...common }
    : {
        type: 'simple-image-processing-v1' as const,
        ...common,
        ...(spec.maxImageFailureRate !== undefined ? { maxImageFailureRate: spec.maxImageFailureRate } : {}),
      };
  return JobBody.parse(body);
}

/** The job's display name (the API's `name`): fixed per run, so a repeated start is identical. */
export function jobDisplayName(spec: ResolvedRunSpec): string {
  return spec.jobName ?? `rfbatch ${spec.runId}`;
}
