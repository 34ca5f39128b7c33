import type { Command } from 'commander';
import { redactUrl, runServices } from '@rfbatch/shared';
import type { App } from '../app.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { note } from '../io.js';
import { cliHost, SERVICE_NAMES, SERVICES, type ServiceName } from '../workers.js';

function parseOnly(value: string | undefined): ServiceName[] | undefined {
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

export function registerWorkers(program: Command, app: App): void {
  program
    .command('workers')
    .summary('run the worker services (ingest, jobs, export) in this process')
    .description(
      'Runs worker services until Ctrl-C or SIGTERM (then running jobs get up to 30 s); start as many processes, on as many hosts, as you like.',
    )
    .option('--only <services>', `comma-separated subset of ${SERVICE_NAMES.join(',')}`)
    .option('--concurrency <n>', 'jobs at once per worker (each service has its own default)')
    .action(async (flags: { only?: string; concurrency?: string }) => {
      const only = parseOnly(flags.only) ?? SERVICE_NAMES;
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
      app.exitCode = await runServices(
        [...new Set(only)].map((name) => SERVICES[name]),
        {
          ...cliHost(app),
          ...(concurrency === undefined ? {} : { concurrency }),
          onStarted: ({ names }, { config }) =>
            note(
              app.io,
              `workers ${names.join(', ')} running (pid ${process.pid}, Redis ${redactUrl(config.redis.url)}, prefix ${config.redis.prefix}); Ctrl-C to stop`,
            ),
        },
      );
    });
}
