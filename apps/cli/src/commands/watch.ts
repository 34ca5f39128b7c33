import type { Command } from 'commander';
import type { App } from '../app.js';
import { cliConfig, cliLogger, openServices, openStore, type ServicesHandle } from '../cli-context.js';
import { ExitCode } from '../exit-codes.js';
import { followRun, reportOutcome, stderrRenderer } from '../follow.js';
import { note } from '../io.js';
import { startWorkers, type RunningWorkers } from '../workers.js';
import { resolveRunId } from './status.js';

export function registerWatch(program: Command, app: App): void {
  program
    .command('watch')
    .summary('follow a run to its end with live progress')
    .argument('[runId]', 'run id (default: the newest run, as for status)')
    .option('--local', 'run every worker in this process while watching (resumes a run paused by Ctrl-C)')
    .option('--json', 'print only the final summary.json on stdout')
    .action(async (runIdArg: string | undefined, flags: { local?: boolean; json?: boolean }) => {
      const { io } = app;
      const handle = await openStore(cliConfig(io));
      let services: ServicesHandle | undefined;
      let workers: RunningWorkers | undefined;
      try {
        const runId = await resolveRunId(handle.store, runIdArg);
        await handle.store.require(runId);
        if (flags.local) {
          services = await openServices(cliConfig(io, { needApiKey: true }), cliLogger(io, app.verbose()));
          workers = await startWorkers(services.ctx, {
            env: io.env,
            rateLimitListeners: services.rateLimitListeners,
          });
        }
        const { state, detached } = await followRun(handle.store, runId, {
          renderer: stderrRenderer(io),
          signal: io.signal,
        });
        if (detached) {
          note(
            io,
            workers
              ? `stopped; resume with: rfbatch watch ${runId} --local`
              : `detached; run ${runId} goes on in the workers`,
          );
          app.exitCode = ExitCode.interrupted;
          return;
        }
        await reportOutcome(io, handle.store, state, { json: flags.json === true });
      } finally {
        await workers?.close();
        await services?.close();
        await handle.close();
      }
    });
}
