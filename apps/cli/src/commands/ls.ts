import type { Command } from 'commander';
import type { App } from '../app.js';
import { cliConfig, openStore } from '../cli-context.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { printJson, printLine } from '../io.js';
import { formatCount, table } from '../render/format.js';
import { runRow } from '@rfbatch/run-control';

export function registerLs(program: Command, app: App): void {
  program
    .command('ls')
    .summary('list runs, newest first')
    .option('-n, --limit <n>', 'how many runs', '20')
    .option('--json', 'print the runs as JSON')
    .action(async (flags: { limit: string; json?: boolean }) => {
      const limit = Number(flags.limit);
      if (!Number.isInteger(limit) || limit < 1)
        throw new CliError(ExitCode.usage, `--limit must be a positive whole number (got "${flags.limit}")`);
      const handle = await openStore(cliConfig(app.io));
      try {
        const ids = await handle.store.list(limit);
        const rows = [];
        for (const id of ids) {
          const state = await handle.store.get(id);
          if (state) rows.push(runRow(state, await handle.store.spec(id).catch(() => undefined)));
        }
        if (flags.json) return printJson(app.io, { runs: rows });
        if (rows.length === 0)
          return printLine(app.io, 'no runs yet: start one with `rfbatch run <folder> --workflow <id>`');
        printLine(
          app.io,
          table(
            ['RUN', 'STATUS', 'CREATED', 'FILES', 'RESULTS', 'SOURCE'],
            rows.map((r) => [
              r.runId,
              r.status,
              r.createdAt.replace('T', ' ').slice(0, 19),
              formatCount(r.planned),
              formatCount(r.results),
              r.source ?? '',
            ]),
          ),
        );
      } finally {
        await handle.close();
      }
    });
}
