import type { Command } from 'commander';
import type { App } from '../app.js';
import { cliConfig, cliLogger, openServices } from '../cli-context.js';
import { printJson, printLine } from '../io.js';
import { recoverRun } from '@rfbatch/run-control';

export function registerRecover(program: Command, app: App): void {
  program
    .command('recover')
    .summary('rebuild a run that Redis lost, from the work dir and the API, and resume it')
    .description(
      'For a run whose state Redis no longer has (a FLUSHALL, an eviction, a new Redis): reads its spec, manifest ' +
        'and plan from the work dir (RFBATCH_WORK_DIR) and its batch and job from the API, records the run again ' +
        'and resumes it where the remote side is. Nothing the batch already holds is uploaded again. Run it where ' +
        'the work dir is; workers must be running (or follow with `rfbatch watch <run> --local`).',
    )
    .argument('<runId>', 'run id')
    .option('--json', 'print the outcome as JSON')
    .action(async (runId: string, flags: { json?: boolean }) => {
      const services = await openServices(
        cliConfig(app.io, { needApiKey: true }),
        cliLogger(app.io, app.verbose()),
      );
      try {
        const result = await recoverRun(services.ctx, runId);
        if (flags.json) return printJson(app.io, result);
        const remote = result.remoteJob ? `; remote job ${result.remoteJob}` : '';
        printLine(
          app.io,
          `run ${runId} recovered: ${result.status}, resuming at ${result.resumedAt} (the batch holds ${result.batchItems} items; ` +
            `${result.unitsInBatch} of ${result.units} upload units are not uploaded again${remote}). Follow it with: rfbatch watch ${runId}`,
        );
        for (const note of result.notes) printLine(app.io, `  note: ${note}`);
      } finally {
        await services.close();
      }
    });
}
