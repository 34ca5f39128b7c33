import type { Command } from 'commander';
import type { App } from '../app.js';
import { cliConfig, openStore } from '../cli-context.js';
import { printJson, printLine } from '../io.js';
import { addRunOptions, specFromFlags, type RunFlags } from '../run-options.js';
import { submitPolicy, submitRun } from '@rfbatch/run-control';

export function registerSubmit(program: Command, app: App): void {
  addRunOptions(
    program
      .command('submit')
      .summary('submit a run to the workers and print its id')
      .description(
        'Queues a run for the workers (rfbatch workers, or docker compose) and prints its id; follow it with `rfbatch watch <id>`.',
      )
      .argument('<source>', 'folder of images/videos, a .jsonl references file, or an https URL of one'),
  )
    .option('--json', 'print {"runId", "created"} as JSON')
    .action(async (source: string, flags: RunFlags & { json?: boolean }) => {
      const config = cliConfig(app.io);
      const spec = specFromFlags(source, flags, app.io.cwd);
      const handle = await openStore(config);
      try {
        const result = await submitRun(handle.queues, handle.store, spec, {
          ...submitPolicy(config),
          cwd: app.io.cwd,
        });
        if (flags.json) printJson(app.io, result);
        else printLine(app.io, result.runId);
      } finally {
        await handle.close();
      }
    });
}
