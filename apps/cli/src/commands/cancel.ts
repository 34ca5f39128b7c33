import type { Command } from 'commander';
import type { App } from '../app.js';
import { cliConfig, cliLogger, openServices } from '../cli-context.js';
import { printJson, printLine } from '../io.js';
import { cancelRun } from '@rfbatch/run-control';

export function registerCancel(program: Command, app: App): void {
  program
    .command('cancel')
    .summary('cancel a run (and abort its remote job)')
    .argument('<runId>', 'run id')
    .option('--json', 'print the outcome as JSON')
    .action(async (runId: string, flags: { json?: boolean }) => {
      const services = await openServices(
        cliConfig(app.io, { needApiKey: true }),
        cliLogger(app.io, app.verbose()),
      );
      try {
        const result = await cancelRun(services.ctx, runId);
        const state = await services.ctx.store.require(runId);
        if (flags.json) return printJson(app.io, { runId, status: state.status, ...result });
        if (!result.cancelled)
          return printLine(app.io, `run ${runId} had already ended (${state.status}); nothing to cancel`);
        printLine(
          app.io,
          `run ${runId} cancelled` +
            (result.abortedRemoteJob ? '; its remote job was aborted' : '') +
            (result.removedJobs ? `; ${result.removedJobs} queued jobs removed` : ''),
        );
      } finally {
        await services.close();
      }
    });
}
