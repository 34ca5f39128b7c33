import {
  createRoboflowClient,
  parseOrThrow,
  BatchIdSchema,
  JobIdSchema,
  type ClosableRoboflowClient,
} from '@rfbatch/shared';
import type { App } from './app.js';
import { cliConfig, cliLogger } from './cli-context.js';
import { CliError, ExitCode } from './exit-codes.js';

/** A Roboflow client from the environment, for the remote-inspection commands (no Redis needed). */
function openClient(app: App): ClosableRoboflowClient {
  const config = cliConfig(app.io, { needApiKey: true });
  return createRoboflowClient({
    apiUrl: config.roboflow.apiUrl,
    apiKey: config.roboflow.apiKey ?? '',
    ...(config.roboflow.workspace ? { workspace: config.roboflow.workspace } : {}),
    requestTimeoutMs: config.roboflow.requestTimeoutMs,
    connectTimeoutMs: config.roboflow.connectTimeoutMs,
    retry: config.roboflow.retry,
    logger: cliLogger(app.io, app.verbose()),
  });
}

/** Runs `fn` with a client and closes it after. */
export async function withClient<T>(
  app: App,
  fn: (client: ClosableRoboflowClient) => Promise<T>,
): Promise<T> {
  const client = openClient(app);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

export function batchIdArg(value: string): string {
  return parseOrThrow(BatchIdSchema, value, 'batch id');
}
export function jobIdArg(value: string): string {
  return parseOrThrow(JobIdSchema, value, 'job id');
}

/** Asks before a destructive remote action; `--yes` skips; without a terminal it must be given. */
export async function confirm(app: App, question: string, yes: boolean | undefined): Promise<void> {
  if (yes) return;
  if (!app.io.confirm)
    throw new CliError(ExitCode.usage, `${question} — add --yes to confirm (no terminal to ask on)`);
  if (!(await app.io.confirm(`${question} [y/N] `)))
    throw new CliError(ExitCode.failed, 'not confirmed; nothing was done');
}
