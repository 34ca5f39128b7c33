import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { ResolvedRunSpec } from '@rfbatch/shared';
import type { App } from '../app.js';
import { cliConfig, openStore } from '../cli-context.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { note, printLine, type CliIO } from '../io.js';
import { formatBytes } from '../render/format.js';
import { resolveRunId } from './status.js';

/** The output folder and spec of a run named by id (the newest when none is named). */
async function runOutput(io: CliIO, runIdArg: string | undefined) {
  const handle = await openStore(cliConfig(io));
  try {
    const runId = await resolveRunId(handle.store, runIdArg);
    const state = await handle.store.require(runId);
    const spec = await handle.store.spec(runId).catch(() => undefined);
    if (!spec)
      throw new CliError(
        ExitCode.notFound,
        `run ${runId} has no stored RunSpec, so its output folder is unknown`,
        'give the output folder instead: `rfbatch report <folder>`',
      );
    if (state.status !== 'completed')
      throw new CliError(
        ExitCode.usage,
        `run ${runId} is ${state.status}: a report is written for a completed run`,
        state.status === 'failed' || state.status === 'cancelled'
          ? `\`rfbatch retry ${runId}\`, then report it`
          : '`rfbatch watch` it to the end first',
      );
    return { outDir: spec.output.dir, spec };
  } finally {
    await handle.close();
  }
}

/** A folder's run spec from the store, when Redis is there and knows the run (for thumbnails). */
async function specOfFolder(io: CliIO, outDir: string): Promise<ResolvedRunSpec | undefined> {
  try {
    const { runId } = JSON.parse(await readFile(join(outDir, 'summary.json'), 'utf8')) as { runId?: string };
    if (!runId) return undefined;
    const handle = await openStore(cliConfig(io));
    try {
      return await handle.store.spec(runId);
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
}

/** Opens a file with the desktop's viewer; says so when there is none. */
function openFile(io: CliIO, path: string): void {
  const [cmd, args] =
    process.platform === 'darwin'
      ? ['open', [path]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '', path]]
        : ['xdg-open', [path]];
  const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
  child.on('error', (error) =>
    note(io, `could not open the report (${cmd}: ${error.message}); open ${path} in a browser`),
  );
  child.unref();
}

export function registerReport(program: Command, app: App): void {
  program
    .command('report')
    .summary("write a run's self-contained report.html (stats, sample gallery, failures)")
    .description(
      'Writes <out>/report.html for a completed run, from its summary.json and results.jsonl: one self-contained file (no network) to open in a browser or mail. Finalize writes it already; this writes it again, e.g. for a run finished before reports existed.',
    )
    .argument('[run]', "run id (default: the newest run), or a run's output folder (with summary.json)")
    .option('--open', 'open the report in the default browser')
    .action(async (runArg: string | undefined, flags: { open?: boolean }) => {
      const folder = runArg !== undefined ? resolve(app.io.cwd, runArg) : undefined;
      const target =
        folder && existsSync(folder) && statSync(folder).isDirectory()
          ? { outDir: folder, spec: await specOfFolder(app.io, folder) }
          : await runOutput(app.io, runArg);
      const { writeReport } = await import('@rfbatch/report');
      let written;
      try {
        written = await writeReport(target);
      } catch (error) {
        throw new CliError(ExitCode.notFound, error instanceof Error ? error.message : String(error));
      }
      printLine(app.io, written.path);
      note(
        app.io,
        `report: ${written.lines} items, ${written.sampled} in the gallery (${written.thumbnails} thumbnails), ${formatBytes(written.bytes)}`,
      );
      if (flags.open) openFile(app.io, written.path);
    });
}
