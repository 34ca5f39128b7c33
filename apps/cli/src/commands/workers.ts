import type { Command } from 'commander';
import { redactUrl } from '@rfbatch/shared';
import type { App } from '../app.js';
import { cliConfig, cliLogger, openServices } from '../cli-context.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { note, sleep } from '../io.js';
import { SERVICE_NAMES, startWorkers, type ServiceName } from '../workers.js';

/** How long running jobs get to finish after Ctrl-C/SIGTERM before the process leaves anyway. */
const CLOSE_DEADLINE_MS = 30_000;

export function parseOnly(value: string | undefined): ServiceName[] | undefined {
  if (value === undefined) return undefined;
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = names.filter((n) => !SERVICE_NAMES.includes(n as ServiceName));
  if (bad.length || names.length === 0) {
    throw new CliError(
      ExitCode.usage,
      `--only takes a comma-separated list of ${SERVICE_NAMES.join(', ')} (got "${value}")`,
    );
  }
  return names as ServiceName[];
}

/** Waits for the signal, then closes under a deadline. */
export async function untilSignal(app: App, close: () => Promise<void>, what: string): Promise<void> {
  await new Promise<void>((resolve) => {
    if (app.io.signal.aborted) return resolve();
    app.io.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  note(app.io, `stopping ${what} (up to ${CLOSE_DEADLINE_MS / 1000}s for running jobs)…`);
  const closed = close().then(() => 'closed' as const);
  const outcome = await Promise.race([closed, sleep(CLOSE_DEADLINE_MS).then(() => 'deadline' as const)]);
  if (outcome === 'deadline')
    throw new CliError(ExitCode.failed, `${what} did not stop within ${CLOSE_DEADLINE_MS / 1000}s`);
  note(app.io, `${what} stopped`);
}

export function registerWorkers(program: Command, app: App): void {
  program
    .command('workers')
    .summary('run the worker services (ingest, jobs, export) in this process')
    .description(
      'Runs worker services until Ctrl-C or SIGTERM; start as many processes, on as many hosts, as you like.',
    )
    .option('--only <services>', `comma-separated subset of ${SERVICE_NAMES.join(',')}`)
    .option('--concurrency <n>', 'jobs at once per worker (each service has its own default)')
    .action(async (flags: { only?: string; concurrency?: string }) => {
      const only = parseOnly(flags.only);
      const concurrency = flags.concurrency === undefined ? undefined : Number(flags.concurrency);
      if (
        concurrency !== undefined &&
        (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1000)
      ) {
        throw new CliError(
          ExitCode.usage,
          `--concurrency must be a whole number from 1 to 1000 (got "${flags.concurrency}")`,
        );
      }
      const config = cliConfig(app.io, { needApiKey: true });
      const services = await openServices(config, cliLogger(app.io, app.verbose(), 'info'));
      try {
        const workers = await startWorkers(services.ctx, {
          ...(only ? { only } : {}),
          ...(concurrency ? { concurrency } : {}),
          env: app.io.env,
          rateLimitListeners: services.rateLimitListeners,
        });
        note(
          app.io,
          `workers ${workers.names.join(', ')} running (pid ${process.pid}, Redis ${redactUrl(config.redis.url)}, prefix ${config.redis.prefix}); Ctrl-C to stop`,
        );
        await untilSignal(app, () => workers.close(), 'workers');
      } finally {
        await services.close();
      }
    });
}
