/**
 * What to restart a failed job with, per cause: the summary that explains it, the overrides that
 * should help (fewer workers or a gpu for memory, a budget from the measured pace for a timeout, a
 * failure rate that accepts the failed images) and the command that applies them.
 */
import {
  estimateTimeoutBudget,
  type FailureClass,
  type JobLog,
  type JobMetadata,
  type JobTriage,
  type MediaKind,
  type RetryOverrides,
} from '@rfbatch/shared';
import {
  effective,
  effectiveCompute,
  failedImagesOf,
  imageFailureCounts,
  MAX_FAILED_IMAGES,
  processedBefore,
  timeoutOf,
} from './failure-facts.js';
import { logText } from './log-fields.js';

/** What the classification found that the advice needs. */
export interface FailureFindings {
  jobId: string;
  runId: string | undefined;
  job: JobMetadata | undefined;
  /** Every log read: warnings name failed images too. */
  logs: JobLog[];
  /** The error logs, and those of them that show the class. */
  errors: JobLog[];
  shown: JobLog[];
  /** The last notification's text. */
  note: string | undefined;
  /** Chunks of the processing stage, when its stages were read. */
  tasks: number | undefined;
  itemCount: number | undefined;
  media: MediaKind | undefined;
}

export type RestartAdvice = Pick<JobTriage, 'summary' | 'suggestedOverrides' | 'suggestion' | 'failedImages'>;

/** The CLI flags of a suggestion, in the order `rfbatch retry` documents them. */
export function retryFlags(o: RetryOverrides): string {
  const flags: string[] = [];
  if (o.machineType) flags.push(`--machine ${o.machineType}`);
  if (o.workersPerMachine !== undefined) flags.push(`--workers-per-machine ${o.workersPerMachine}`);
  if (o.processingTimeoutSeconds !== undefined) flags.push(`--timeout ${o.processingTimeoutSeconds}`);
  if (o.maxParallelTasks !== undefined) flags.push(`--max-parallel-tasks ${o.maxParallelTasks}`);
  if (o.maxImageFailureRate !== undefined) flags.push(`--max-image-failure-rate ${o.maxImageFailureRate}`);
  return flags.join(' ');
}

type Retry = (o?: RetryOverrides) => string;

function roundRateUp(rate: number): number {
  return Math.min(1, Math.ceil((rate + 0.0001) * 20) / 20);
}

/** The advice for a job of class `cls`. Pure, like the classification. */
export function restartAdvice(cls: FailureClass, f: FailureFindings): RestartAdvice {
  const retry: Retry = (o) =>
    f.runId
      ? `rfbatch retry ${f.runId}${o && retryFlags(o) ? ` ${retryFlags(o)}` : ''}`
      : `restart job "${f.jobId}"${o ? ` with ${retryFlags(o)}` : ''}`;
  switch (cls) {
    case 'out-of-memory':
      return outOfMemory(f, retry);
    case 'timeout':
      return timeout(f, retry);
    case 'image-failures':
      return imageFailures(f, retry);
    case 'workflow-error':
      return {
        summary:
          'the Workflow itself failed (see the evidence): no restart setting fixes that; fix the Workflow or its parameters first',
        suggestion: `fix the Workflow, then ${retry()}`,
      };
    case 'input-missing':
      return {
        summary: "the job's input data is gone (staged data expires 7 days after upload)",
        suggestion: `${retry()} re-stages the inputs into a fresh batch and starts a new job`,
      };
    case 'aborted':
      return { summary: 'the job was aborted', suggestion: retry() };
    case 'unknown':
      return {
        summary: 'the logs name no known cause (out of memory, timeout, image failures, workflow error)',
        suggestion: `read all logs with \`rfbatch jobs logs ${f.jobId}\`; ${retry()} restarts the job`,
      };
  }
}

function outOfMemory(f: FailureFindings, retry: Retry): RestartAdvice {
  const { machineType, workersPerMachine } = effectiveCompute(f.job);
  const machine = machineType ?? 'cpu';
  const now = `${workersPerMachine ?? 'the default number of'} workers per ${machine} machine`;
  if (workersPerMachine === undefined || workersPerMachine > 1) {
    const o = { workersPerMachine: 1 };
    return {
      summary: `the job ran out of memory with ${now}: each worker loads the Workflow's models, so fewer workers per machine leave each one more memory (or use --machine gpu)`,
      suggestedOverrides: o,
      suggestion: retry(o),
    };
  }
  if (machine === 'cpu') {
    const o = { machineType: 'gpu' as const };
    return {
      summary: `the job ran out of memory even with 1 worker per cpu machine: a gpu machine has more memory for the Workflow's models`,
      suggestedOverrides: o,
      suggestion: retry(o),
    };
  }
  return {
    summary:
      'the job ran out of memory even with 1 worker per gpu machine: the Workflow needs less memory (a smaller model, no tiling/SAHI, smaller inputs)',
    suggestion: `make the Workflow lighter, then ${retry()}`,
  };
}

function timeout(f: FailureFindings, retry: Retry): RestartAdvice {
  const failedBudget = timeoutOf(f.job, [...f.shown.map(logText), f.note ?? '']);
  const processed = processedBefore(f.shown);
  const chunks = f.tasks ?? 1;
  const perChunk = failedBudget !== undefined ? failedBudget / chunks : undefined;
  const machine = effectiveCompute(f.job).machineType ?? 'cpu';
  const budget = estimateTimeoutBudget({
    items: f.itemCount ?? 0,
    media: f.media ?? 'images',
    machineType: machine,
    ...(f.tasks !== undefined ? { chunks: f.tasks } : {}),
    ...(perChunk !== undefined && processed ? { measuredSecondsPerItem: perChunk / processed } : {}),
    ...(failedBudget !== undefined ? { failedBudgetSeconds: failedBudget } : {}),
  });
  const split =
    failedBudget !== undefined
      ? `processingTimeoutSeconds (${failedBudget} s) is the whole job's machine time, split evenly across its ${chunks} chunk${chunks === 1 ? '' : 's'} (about ${Math.round(failedBudget / chunks)} s each)`
      : "processingTimeoutSeconds is the whole job's machine time, split evenly across its chunks";
  const o = { processingTimeoutSeconds: budget.seconds };
  return {
    summary: `the job timed out: ${split}; ${budget.seconds} s should fit (${budget.basis})`,
    suggestedOverrides: o,
    suggestion: retry(o),
  };
}

function imageFailures(f: FailureFindings, retry: Retry): RestartAdvice {
  const counts = imageFailureCounts(f.shown.length ? f.shown : f.errors);
  const limit = effective(f.job, 'maxImageFailureRate');
  const failedImages = failedImagesOf(f.logs);
  const observed = counts ? counts.failed / counts.total : undefined;
  const rate = observed !== undefined ? roundRateUp(observed) : roundRateUp(Math.max(0.1, (limit ?? 0) * 2));
  const o = { maxImageFailureRate: rate };
  const what = counts
    ? `${counts.failed} of ${counts.total} images failed in a chunk (rate ${observed?.toFixed(3)})`
    : 'too many images failed in a chunk';
  const limitText =
    limit !== undefined ? `maxImageFailureRate ${limit}` : 'the default limit (10 failed images per chunk)';
  return {
    summary: `${what}, above ${limitText}; restart accepting them, or fix or remove the failed images${failedImages.length ? ` (${failedImages.length}${failedImages.length >= MAX_FAILED_IMAGES ? '+' : ''} named in the logs)` : ''} and retry`,
    suggestedOverrides: o,
    suggestion: retry(o),
    ...(failedImages.length ? { failedImages: failedImages.map((name) => ({ name })) } : {}),
  };
}
