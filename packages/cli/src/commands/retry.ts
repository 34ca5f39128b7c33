import { Option, type Command } from 'commander';
import { parseOrThrow } from '@rfbatch/shared';
import { retryRun } from '@rfbatch/jobs';
import { RetryOverridesSchema, toRestartOverrides } from '@rfbatch/gateway';
import type { App } from '../app.js';
import { cliConfig, cliLogger, openServices } from '../cli-context.js';
import { printJson, printLine } from '../io.js';

interface RetryFlags {
  machine?: 'cpu' | 'gpu';
  workersPerMachine?: string;
  timeout?: string;
  maxParallelTasks?: string;
  maxImageFailureRate?: string;
  json?: boolean;
}

const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));

export function registerRetry(program: Command, app: App): void {
  program
    .command('retry')
    .summary('retry a failed or cancelled run from the stage that failed')
    .description(
      'Starts a new attempt of the run at the stage that failed: nothing uploaded is uploaded again and no finished ' +
        'download is fetched again. A failed remote job is restarted, with the overrides below when given.',
    )
    .argument('<runId>', 'run id')
    .addOption(new Option('--machine <type>', 'restart the job on this machine type').choices(['cpu', 'gpu']))
    .option('--workers-per-machine <n>', 'restart with this many workers per machine')
    .option('--timeout <seconds>', 'restart with this processing timeout')
    .option('--max-parallel-tasks <n>', 'restart with this many parallel tasks')
    .option('--max-image-failure-rate <fraction>', 'restart allowing this fraction of failed images per shard')
    .option('--json', 'print the outcome as JSON')
    .action(async (runId: string, flags: RetryFlags) => {
      const overrides = parseOrThrow(
        RetryOverridesSchema,
        Object.fromEntries(
          Object.entries({
            machineType: flags.machine,
            workersPerMachine: num(flags.workersPerMachine),
            processingTimeoutSeconds: num(flags.timeout),
            maxParallelTasks: num(flags.maxParallelTasks),
            maxImageFailureRate: num(flags.maxImageFailureRate),
          }).filter(([, v]) => v !== undefined),
        ),
        'retry options',
      );
      const services = await openServices(cliConfig(app.io, { needApiKey: true }), cliLogger(app.io, app.verbose()));
      try {
        const result = await retryRun(services.ctx, runId, toRestartOverrides(overrides));
        if (flags.json) return printJson(app.io, { runId, ...result });
        printLine(
          app.io,
          `run ${runId} retried (attempt ${result.attempt + 1}) from ${result.resumedAt}` +
            (result.restartedRemoteJob ? '; the remote job was restarted' : '') +
            `. Follow it with: rfbatch watch ${runId} (add --local when no workers run)`,
        );
      } finally {
        await services.close();
      }
    });
}
