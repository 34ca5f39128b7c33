/**
 * `rfbatch jobs trt-compile`: starts a TensorRT compilation of a model (the official `trt-compile`),
 * the `trt-compilation-v1` body of `POST /jobs/{id}`. It has no batch and nothing to export: follow it
 * with `rfbatch jobs show`.
 */
import { randomBytes } from 'node:crypto';
import { Option, type Command } from 'commander';
import {
  CompilationDevice,
  DEFAULT_COMPILATION_DEVICES,
  redactNotifyUrl,
  type TrtCompilationJobV1,
} from '@rfbatch/shared';
import type { App } from '../app.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { printJson, printLine } from '../io.js';
import { jobIdArg, withClient } from '../remote-client.js';

interface TrtFlags {
  modelId: string;
  device?: CompilationDevice[];
  jobId?: string;
  jobName?: string;
  notificationsUrl?: string;
  json?: boolean;
}

/** `trt-` and 12 characters of a-z0-9, as the official client names TRT jobs. */
function newTrtJobId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return `trt-${[...randomBytes(12)].map((b) => alphabet[b % alphabet.length]).join('')}`;
}

/** An http(s) URL, or a usage error naming it (redacted: its path or query may be a token). */
function notificationsUrlArg(value: string): string {
  let ok = false;
  try {
    ok = /^https?:$/.test(new URL(value).protocol);
  } catch {
    ok = false;
  }
  if (!ok)
    throw new CliError(
      ExitCode.usage,
      `--notifications-url must be an http(s) URL (got "${redactNotifyUrl(value)}")`,
    );
  return value;
}

export function registerTrtCompile(jobs: Command, app: App): void {
  jobs
    .command('trt-compile')
    .summary('start a TensorRT compilation of a model (a trt-compilation-v1 job; no batch, no export)')
    .requiredOption('-m, --model-id <id>', 'the model to compile, e.g. my-project/3')
    .addOption(
      new Option(
        '-d, --device <device...>',
        `target devices (default: ${DEFAULT_COMPILATION_DEVICES.join(', ')})`,
      ).choices(CompilationDevice.options),
    )
    .option('--job-id <id>', 'job id, ≤20 chars of a-z 0-9 _ - (default trt- and 12 random characters)')
    .option('--job-name <name>', 'display name of the job')
    .option('--notifications-url <url>', 'your webhook for the job state notifications (notificationsURL)')
    .option('--json', 'print JSON')
    .action(async (flags: TrtFlags) => {
      const jobId = flags.jobId ? jobIdArg(flags.jobId) : newTrtJobId();
      const notify = flags.notificationsUrl ? notificationsUrlArg(flags.notificationsUrl) : undefined;
      const devices = flags.device ? [...new Set(flags.device)] : undefined;
      const body: TrtCompilationJobV1 = {
        type: 'trt-compilation-v1',
        modelId: flags.modelId,
        ...(devices ? { compilationDevices: devices } : {}),
        ...(notify ? { notificationsURL: notify } : {}),
      };
      await withClient(app, (c) => c.startJob(jobId, body, flags.jobName ? { name: flags.jobName } : {}));
      const shown = devices ?? DEFAULT_COMPILATION_DEVICES;
      if (flags.json)
        return printJson(app.io, {
          jobId,
          type: body.type,
          modelId: body.modelId,
          compilationDevices: shown,
          ...(notify ? { notificationsURL: redactNotifyUrl(notify) } : {}),
        });
      printLine(app.io, `TRT compilation job ${jobId} started for ${body.modelId} on ${shown.join(', ')}`);
      printLine(app.io, `  follow it: rfbatch jobs show ${jobId}`);
    });
}
