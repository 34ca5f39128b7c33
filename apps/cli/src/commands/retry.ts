import { Option, type Command } from 'commander';
import { parseOrThrow } from '@rfbatch/shared';
import type { App } from '../app.js';
import { cliConfig, cliLogger, openServices } from '../cli-context.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { printJson, printLine } from '../io.js';
import { retryRun, toRestartOverrides } from '@rfbatch/run-control';
import { RetryOverridesSchema } from '@rfbatch/shared';

interface RetryFlags {
  machine?: 'cpu' | 'gpu';
  workersPerMachine?: string;
  timeout?: string;
  maxParallelTasks?: string;
  maxImageFailureRate?: string;
  suggested?: boolean;
  json?: boolean;
}

const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));

export function registerRetry(program: Command, app: App): void {
  program
    .command('retry')
    .summary('retry a failed or cancelled run from the stage that failed')
    .description(
      'Starts a new attempt of the run at the stage that failed: nothing uploaded is uploaded again and no finished ' +
        'download is fetched again. A failed remote job is restarted, with the overrides below when given ' +
        '(--suggested: those the failure triage suggests, shown by `rfbatch status`). Staged inputs that have expired ' +
        '(7 days) are staged again into a fresh batch, and a new job runs them.',
    )
    .argument('<runId>', 'run id')
    .addOption(new Option('--machine <type>', 'restart the job on this machine type').choices(['cpu', 'gpu']))
    .option('--workers-per-machine <n>', 'restart with this many workers per machine')
    .option('--timeout <seconds>', 'restart with this processing timeout')
    .option('--max-parallel-tasks <n>', 'restart with this many parallel tasks')
    .option(
      '--max-image-failure-rate <fraction>',
      'restart allowing this fraction of failed images per shard',
    )
    .option(
      '--suggested',
      'restart with the overrides the failure triage suggests (see `rfbatch status`); flags given win',
    )
    .option('--json', 'print the outcome as JSON')
    .action(async (runId: string, flags: RetryFlags) => {
      const given = Object.fromEntries(
        Object.entries({
          machineType: flags.machine,
          workersPerMachine: num(flags.workersPerMachine),
          processingTimeoutSeconds: num(flags.timeout),
          maxParallelTasks: num(flags.maxParallelTasks),
          maxImageFailureRate: num(flags.maxImageFailureRate),
        }).filter(([, v]) => v !== undefined),
      );
      parseOrThrow(RetryOverridesSchema, given, 'retry options');
      const services = await openServices(
        cliConfig(app.io, { needApiKey: true }),
        cliLogger(app.io, app.verbose()),
      );
      try {
        let suggested = {};
        if (flags.suggested) {
          const triage = (await services.ctx.store.require(runId)).error?.triage;
          if (!triage?.suggestedOverrides) {
            throw new CliError(
              ExitCode.usage,
              `run ${runId} has no suggested restart overrides${triage ? ` (its failure is "${triage.class}": ${triage.suggestion})` : ''}`,
              'give the overrides as flags, or retry without --suggested',
            );
          }
          suggested = triage.suggestedOverrides;
        }
        const overrides = parseOrThrow(RetryOverridesSchema, { ...suggested, ...given }, 'retry options');
        const result = await retryRun(services.ctx, runId, toRestartOverrides(overrides));
        if (flags.json) return printJson(app.io, { runId, ...result });
        printLine(
          app.io,
          `run ${runId} retried (attempt ${result.attempt + 1}) from ${result.resumedAt}` +
            (result.restartedRemoteJob
              ? `; the remote job was restarted${Object.keys(overrides).length ? ` with ${JSON.stringify(overrides)}` : ''}`
              : '') +
            (result.restaged
              ? `; ${result.restaged.reason}, so the inputs are staged again into batch ${result.restaged.batchId} (new job ${result.restaged.jobId})`
              : '') +
            `. Follow it with: rfbatch watch ${runId} (add --local when no workers run)`,
        );
      } finally {
        await services.close();
      }
    });
}
