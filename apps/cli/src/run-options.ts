import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import {
  RunSpecSchema,
  ValidationError,
  newRunId,
  zodProblems,
  type RunSpec,
  type RunSpecInput,
} from '@rfbatch/shared';
import { CliError, ExitCode } from './exit-codes.js';

/** Flags shared by `run` and `submit`, as commander parses them. */
export interface RunFlags {
  workflow: string;
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
  imageInput?: string;
  param?: string[];
  videos?: boolean;
  include?: string[];
  recursive?: boolean;
}

const number = (what: string) => (value: string) => {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n))
    throw new CliError(ExitCode.usage, `${what} must be a number (got "${value}")`);
  return n;
};
const collect = (value: string, previous: string[] = []) => [...previous, value];

export function addRunOptions(command: Command): Command {
  return command
    .requiredOption('-w, --workflow <id>', 'Workflow id to run on every item')
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
    .option('--no-recursive', 'do not descend into sub-folders');
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
  notify: '--notify',
};

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

/** The source argument: a folder, a local JSONL references file, or an https URL of one. */
function sourceOf(
  source: string,
  flags: RunFlags,
  cwd: string,
  allowMissing = false,
): RunSpecInput['source'] {
  const media = flags.videos ? ('videos' as const) : ('images' as const);
  if (/^https?:\/\//i.test(source)) return { kind: 'references', url: source, media };
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
  source: string,
  flags: RunFlags,
  cwd: string,
  options: { allowMissingSource?: boolean } = {},
): RunSpec & { runId: string } {
  const runId = flags.runId ?? newRunId();
  const input: RunSpecInput = {
    runId,
    source: sourceOf(source, flags, cwd, options.allowMissingSource),
    ...(flags.batchId !== undefined ? { batchId: flags.batchId } : {}),
    ...(flags.jobId !== undefined ? { jobId: flags.jobId } : {}),
    ...(flags.jobName !== undefined ? { jobName: flags.jobName } : {}),
    workflow: {
      workflowId: flags.workflow,
      ...(parseParams(flags.param) ? { parameters: parseParams(flags.param) } : {}),
      ...(flags.imageInput ? { imageInputName: flags.imageInput } : {}),
      ...(flags.aggregation ? { aggregationFormat: flags.aggregation } : {}),
    },
    compute: {
      ...(flags.machine ? { machineType: flags.machine } : {}),
      ...(flags.workersPerMachine !== undefined ? { workersPerMachine: flags.workersPerMachine } : {}),
    },
    ...(flags.timeout !== undefined ? { processingTimeoutSeconds: flags.timeout } : {}),
    ...(flags.maxParallelTasks !== undefined ? { maxParallelTasks: flags.maxParallelTasks } : {}),
    ...(flags.keepJobOnTimeout ? { keepJobOnTimeout: true } : {}),
    ...(flags.maxImageFailureRate !== undefined ? { maxImageFailureRate: flags.maxImageFailureRate } : {}),
    output: { dir: resolve(cwd, flags.out ?? `rfbatch-results/${runId}`) },
    ...(flags.notify !== undefined ? { notify: flags.notify } : {}),
  };
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
