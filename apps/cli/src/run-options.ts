import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import {
  looksLikeUrl,
  RunSpecSchema,
  ValidationError,
  newRunId,
  zodProblems,
  NotificationCategory,
  type RunSpec,
  type RunSpecInput,
} from '@rfbatch/shared';
import { CliError, ExitCode } from './exit-codes.js';

/** Flags shared by `run` and `submit`, as commander parses them. */
export interface RunFlags {
  workflow?: string;
  /** Run on an already staged batch (no local source). */
  batch?: string;
  part?: string;
  imagesMetadataPart?: string;
  metadataInput?: string[];
  inferenceBackend?: 'inference-models' | 'old-inference';
  saveImageOutputs?: boolean;
  imageOutputsToSave?: string[];
  maxVideoFps?: number;
  workflowParams?: string;
  machineSize?: keyof typeof MACHINE_SIZE_WORKERS;
  out?: string;
  runId?: string;
  batchId?: string;
  jobId?: string;
  jobName?: string;
  machine?: 'cpu' | 'gpu';
  workersPerMachine?: number;
  aggregation?: 'jsonl' | 'csv';
  timeout?: number;
  maxParallelTasks?: number;
  keepJobOnTimeout?: boolean;
  maxImageFailureRate?: number;
  notify?: string;
  batchName?: string;
  ingestId?: string;
  notificationsUrl?: string;
  notificationCategory?: (typeof NotificationCategory.options)[number][];
  imageInput?: string;
  param?: string[];
  videos?: boolean;
  include?: string[];
  recursive?: boolean;
  bucketMode?: 'references' | 'stream';
  presignSeconds?: number;
}

const number = (what: string) => (value: string) => {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n))
    throw new CliError(ExitCode.usage, `${what} must be a number (got "${value}")`);
  return n;
};
const collect = (value: string, previous: string[] = []) => [...previous, value];

/** The official CLI's deprecated `--machine-size`, as the workers per machine it stands for. */
const MACHINE_SIZE_WORKERS = { xs: 8, s: 4, m: 2, l: 1, xl: 1 } as const;

export function addRunOptions(command: Command): Command {
  // -w is required unless the Workflow comes from the adopted job (`run --job`): checked as commander would.
  command.hook('preAction', (cmd) => {
    const opts = cmd.opts<{ workflow?: string; job?: string }>();
    if (opts.workflow === undefined && opts.job === undefined)
      cmd.error("error: required option '-w, --workflow <id>' not specified", {
        exitCode: 2,
        code: 'commander.missingMandatoryOptionValue',
      });
  });
  return addStagingOptions(command)
    .option('-w, --workflow <id>', 'Workflow id to run on every item (required, except with --job)')
    .option(
      '-o, --out <dir>',
      'folder for results.jsonl and summary.json (default ./rfbatch-results/<run id>)',
    )
    .option('--run-id <id>', 'run id (default: generated; submitting the same id twice starts one run)')
    .option('--batch-id <id>', 'staging batch id (default rfb-<run id>)')
    .option('--job-id <id>', 'batch job id, ≤20 chars of a-z 0-9 _ - (default derived from the run id)')
    .option('--job-name <name>', 'display name of the job')
    .addOption(new Option('--machine <type>', 'machine type').choices(['cpu', 'gpu']))
    .option(
      '--workers-per-machine <n>',
      'workers per machine (lower it if jobs run out of memory)',
      number('--workers-per-machine'),
    )
    .addOption(new Option('--aggregation <format>', 'format of the job output').choices(['jsonl', 'csv']))
    .option(
      '--timeout <seconds>',
      'cumulative machine time for the job (processingTimeoutSeconds)',
      number('--timeout'),
    )
    .option('--max-parallel-tasks <n>', 'most tasks of the job at once', number('--max-parallel-tasks'))
    .option(
      '--keep-job-on-timeout',
      'keep the remote job running when the run stops waiting for it (by default it is aborted)',
    )
    .option(
      '--max-image-failure-rate <fraction>',
      'images per shard allowed to fail (0–1)',
      number('--max-image-failure-rate'),
    )
    .option('--notify <url>', 'URL that receives the run summary when the run ends')
    .option('--image-input <name>', 'name of the Workflow image input')
    .option(
      '-p, --param <key=value>',
      'Workflow parameter (repeatable; the value is JSON when it parses)',
      collect,
    )
    .option('--videos', 'the source holds videos, not images')
    .option('--include <ext>', 'only files with this extension (repeatable)', collect)
    .option('--no-recursive', 'do not descend into sub-folders')
    .addOption(
      new Option(
        '--bucket-mode <mode>',
        'bucket sources: references (presigned URLs, no byte passes through rfbatch) or stream (the workers upload the bytes)',
      ).choices(['references', 'stream']),
    )
    .option(
      '--presign-seconds <n>',
      'bucket sources, references mode: life of each presigned URL (default 86400, at most 604800)',
      number('--presign-seconds'),
    )
    .option('--batch <id>', 'run on this already staged batch instead of a <source> (nothing is uploaded)')
    .option('--part <name>', 'with --batch: the part of a multipart batch to process')
    .option('--images-metadata-part <name>', 'with --batch: the part that holds images metadata')
    .option(
      '--metadata-input <input=key>',
      'with --images-metadata-part: feed metadata key to Workflow input (repeatable)',
      collect,
    )
    .addOption(
      new Option('--inference-backend <backend>', 'inference backend of the job').choices([
        'inference-models',
        'old-inference',
      ]),
    )
    .option('--save-image-outputs', 'persist the Workflow outputs that are images')
    .option(
      '--image-outputs-to-save <name>',
      'with --save-image-outputs: only this image output (repeatable)',
      collect,
    )
    .option('--max-video-fps <n>', 'frames per second sampled from videos', number('--max-video-fps'))
    .option('--workflow-params <file>', 'a JSON file of Workflow parameters (merged under --param)')
    .addOption(
      new Option(
        '--machine-size <size>',
        'deprecated: use --workers-per-machine (xs=8 s=4 m=2 l=1 xl=1)',
      ).choices(Object.keys(MACHINE_SIZE_WORKERS)),
    );
}

/**
 * The official CLI's staging flags (`--batch-name`, `--ingest-id`, `--notifications-url`,
 * `--notification-category`), shared by `run`, `submit` and `stage`.
 */
export function addStagingOptions(command: Command): Command {
  return command
    .option(
      '--batch-name <name>',
      'display name of the staging batch, sent with every upload (official -bn; default: the batch id)',
    )
    .option(
      '--ingest-id <id>',
      'ingest id of the staging: tar shards carry it, references requests <id>-<chunk> (default rfb-<run id>)',
    )
    .option(
      '--notifications-url <url>',
      'your webhook for the API notifications of the ingest and the job (replaces the gateway webhook; rfbatch polls)',
    )
    .addOption(
      new Option(
        '--notification-category <cat...>',
        'with --notifications-url: ingest notifications to get (references ingests only)',
      ).choices(NotificationCategory.options),
    );
}

/** Spec paths shown as the flag the user typed. */
const FLAG_OF: Record<string, string> = {
  runId: '--run-id',
  batchId: '--batch-id',
  jobId: '--job-id',
  jobName: '--job-name',
  'workflow.workflowId': '--workflow',
  'workflow.parameters': '--param',
  'workflow.imageInputName': '--image-input',
  'compute.workersPerMachine': '--workers-per-machine',
  'compute.machineType': '--machine',
  processingTimeoutSeconds: '--timeout',
  maxParallelTasks: '--max-parallel-tasks',
  keepJobOnTimeout: '--keep-job-on-timeout',
  maxImageFailureRate: '--max-image-failure-rate',
  'output.dir': '--out',
  'workflow.maxVideoFPS': '--max-video-fps',
  'source.partName': '--part',
  'source.url': '<source>',
  'source.presignSeconds': '--presign-seconds',
  inferenceBackend: '--inference-backend',
  notify: '--notify',
  batchName: '--batch-name',
  ingestId: '--ingest-id',
  'notifications.url': '--notifications-url',
  'notifications.categories': '--notification-category',
};

/** `--notifications-url` and `--notification-category` as the RunSpec's `notifications`. */
function notificationsOf(
  flags: Pick<RunFlags, 'notificationsUrl' | 'notificationCategory' | 'videos' | 'batch'>,
  source: RunSpecInput['source'],
  warn?: (message: string) => void,
): RunSpecInput['notifications'] {
  const categories = flags.notificationCategory?.length
    ? [...new Set(flags.notificationCategory)]
    : undefined;
  if (flags.notificationsUrl === undefined) {
    if (categories)
      throw new CliError(
        ExitCode.usage,
        '--notification-category needs --notifications-url <url> (the webhook that gets them)',
      );
    return undefined;
  }
  if (source.kind === 'directory' && categories)
    warn?.(
      "--notification-category applies to references ingests only (as in the official CLI): a folder's tar shards notify every category",
    );
  if (source.kind === 'directory' && source.media === 'videos')
    warn?.(
      'videos from a folder are uploaded one by one and the API sends no ingest notifications for them: only the job notifies --notifications-url',
    );
  return { url: flags.notificationsUrl, ...(categories ? { categories } : {}) };
}

function parseParams(pairs: string[] = []): Record<string, unknown> | undefined {
  if (pairs.length === 0) return undefined;
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CliError(ExitCode.usage, `--param must look like key=value (got "${pair}")`);
    const raw = pair.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // Not JSON: keep it as a string.
    }
    out[pair.slice(0, eq)] = value;
  }
  return out;
}

/** `--workflow-params <file>`: a JSON object, or a one-line error naming the file. */
function paramsFile(file: string | undefined, cwd: string): Record<string, unknown> | undefined {
  if (file === undefined) return undefined;
  const path = resolve(cwd, file);
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new CliError(
      ExitCode.usage,
      `--workflow-params "${file}" is not a readable JSON file (${(error as Error).message.split('\n')[0]})`,
      'give a file holding one JSON object of Workflow parameters',
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new CliError(
      ExitCode.usage,
      `--workflow-params "${file}" must hold a JSON object, not ${JSON.stringify(value).slice(0, 40)}`,
    );
  return value as Record<string, unknown>;
}

/** `--metadata-input input=key` pairs as the job's `imagesMetadataInputsMapping`. */
function metadataMapping(pairs: string[] | undefined): Record<string, string> | undefined {
  if (!pairs?.length) return undefined;
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0 || eq === pair.length - 1)
      throw new CliError(ExitCode.usage, `--metadata-input must look like input=key (got "${pair}")`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/** `--batch <id>`: a staged source (nothing local), with its part and metadata part. */
function stagedSourceOf(flags: RunFlags): RunSpecInput['source'] {
  const mapping = metadataMapping(flags.metadataInput);
  return {
    kind: 'staged',
    media: flags.videos ? 'videos' : 'images',
    ...(flags.part !== undefined ? { partName: flags.part } : {}),
    ...(flags.imagesMetadataPart !== undefined ? { imagesMetadataPart: flags.imagesMetadataPart } : {}),
    ...(mapping ? { imagesMetadataInputsMapping: mapping } : {}),
  };
}

/** The source argument: a folder, a local JSONL references file, or an https URL of one. */
function sourceOf(
  source: string,
  flags: RunFlags,
  cwd: string,
  allowMissing = false,
): RunSpecInput['source'] {
  const media = flags.videos ? ('videos' as const) : ('images' as const);
  if (/^https?:\/\//i.test(source)) return { kind: 'references', url: source, media };
  // s3://, gs://, az:// (an unknown scheme is named by the RunSpec's validation).
  if (looksLikeUrl(source))
    return {
      kind: 'bucket',
      url: source,
      media,
      ...(flags.bucketMode ? { mode: flags.bucketMode } : {}),
      ...(flags.presignSeconds !== undefined ? { presignSeconds: flags.presignSeconds } : {}),
      ...(flags.include ? { include: flags.include } : {}),
    };
  const path = resolve(cwd, source);
  // Preflight reports a missing folder in its report (as the planner words it) instead of failing here.
  if (!existsSync(path) && allowMissing) return { kind: 'directory', path, media };
  if (!existsSync(path)) {
    throw new CliError(
      ExitCode.usage,
      `source "${source}" does not exist (looked at ${path})`,
      'give a folder of images or videos, or a .jsonl file of {"name","url"} references',
    );
  }
  const stat = statSync(path);
  if (stat.isFile()) {
    if (!/\.jsonl?$/i.test(path))
      throw new CliError(
        ExitCode.usage,
        `source "${source}" is a file, not a folder`,
        'give the folder that holds the images, or a .jsonl references file',
      );
    return { kind: 'references', path, media };
  }
  return {
    kind: 'directory',
    path,
    media,
    recursive: flags.recursive !== false,
    ...(flags.include ? { include: flags.include } : {}),
  };
}

/** Builds and validates the RunSpec of `rfbatch run|submit`; every bad flag is named in one error. */
export function specFromFlags(
  source: string | undefined,
  flags: RunFlags,
  cwd: string,
  options: { allowMissingSource?: boolean; warn?: (message: string) => void } = {},
): RunSpec & { runId: string } {
  const runId = flags.runId ?? newRunId();
  if (flags.batch !== undefined && source !== undefined)
    throw new CliError(
      ExitCode.usage,
      `give either a <source> ("${source}") or --batch ${flags.batch}, not both`,
    );
  if (flags.batch === undefined && source === undefined)
    throw new CliError(
      ExitCode.usage,
      'no <source> given',
      'give a folder, a .jsonl references file, or --batch <id>',
    );
  if (flags.workflow === undefined)
    throw new CliError(ExitCode.usage, "required option '-w, --workflow <id>' not specified");
  for (const [flag, value] of [
    ['--part', flags.part],
    ['--images-metadata-part', flags.imagesMetadataPart],
  ] as const)
    if (value !== undefined && flags.batch === undefined)
      throw new CliError(ExitCode.usage, `${flag} needs --batch <id> (a part of an already staged batch)`);
  let workersPerMachine = flags.workersPerMachine;
  if (workersPerMachine === undefined && flags.machineSize !== undefined) {
    workersPerMachine = MACHINE_SIZE_WORKERS[flags.machineSize];
    options.warn?.(
      `--machine-size is deprecated (as in the official CLI): using --workers-per-machine ${workersPerMachine} for size ${flags.machineSize}`,
    );
  }
  const parameters = { ...paramsFile(flags.workflowParams, cwd), ...parseParams(flags.param) };
  const input: RunSpecInput = {
    runId,
    source:
      flags.batch !== undefined
        ? stagedSourceOf(flags)
        : sourceOf(source ?? '', flags, cwd, options.allowMissingSource),
    ...(flags.batch !== undefined ? { batchId: flags.batch } : {}),
    ...(flags.batchId !== undefined ? { batchId: flags.batchId } : {}),
    ...(flags.jobId !== undefined ? { jobId: flags.jobId } : {}),
    ...(flags.jobName !== undefined ? { jobName: flags.jobName } : {}),
    workflow: {
      workflowId: flags.workflow,
      ...(Object.keys(parameters).length ? { parameters } : {}),
      ...(flags.imageInput ? { imageInputName: flags.imageInput } : {}),
      ...(flags.aggregation ? { aggregationFormat: flags.aggregation } : {}),
      ...(flags.maxVideoFps !== undefined ? { maxVideoFPS: flags.maxVideoFps } : {}),
      ...(flags.saveImageOutputs ? { persistImagesOutputs: true } : {}),
      ...(flags.imageOutputsToSave?.length ? { imagesOutputsToBePersisted: flags.imageOutputsToSave } : {}),
    },
    compute: {
      ...(flags.machine ? { machineType: flags.machine } : {}),
      ...(workersPerMachine !== undefined ? { workersPerMachine } : {}),
    },
    ...(flags.inferenceBackend !== undefined ? { inferenceBackend: flags.inferenceBackend } : {}),
    ...(flags.timeout !== undefined ? { processingTimeoutSeconds: flags.timeout } : {}),
    ...(flags.maxParallelTasks !== undefined ? { maxParallelTasks: flags.maxParallelTasks } : {}),
    ...(flags.keepJobOnTimeout ? { keepJobOnTimeout: true } : {}),
    ...(flags.maxImageFailureRate !== undefined ? { maxImageFailureRate: flags.maxImageFailureRate } : {}),
    output: {
      dir:
        flags.out && looksLikeUrl(flags.out)
          ? flags.out
          : resolve(cwd, flags.out ?? `rfbatch-results/${runId}`),
    },
    ...(flags.notify !== undefined ? { notify: flags.notify } : {}),
    ...(flags.batchName !== undefined ? { batchName: flags.batchName } : {}),
    ...(flags.ingestId !== undefined ? { ingestId: flags.ingestId } : {}),
  };
  const notifications = notificationsOf(flags, input.source, options.warn);
  if (notifications) input.notifications = notifications;
  const parsed = RunSpecSchema.safeParse(input);
  if (!parsed.success) {
    const problems = zodProblems(parsed.error).map((p) => ({
      path: FLAG_OF[p.path] ?? p.path,
      message: p.message,
    }));
    throw new ValidationError('arguments', problems, 'see `rfbatch run --help`');
  }
  return parsed.data as RunSpec & { runId: string };
}
