import type { Command } from 'commander';
import type { App } from '../app.js';
import { runDemo } from '../demo/run-demo.js';
import { CliError, ExitCode } from '../exit-codes.js';

/** `rfbatch demo`: what `npm run demo` does, for an installed rfbatch (it needs redis-server on PATH or a Redis). */
export function registerDemo(program: Command, app: App): void {
  program
    .command('demo')
    .summary('the whole pipeline on generated sample images against the local emulator, in this process')
    .description(
      'Generates sample images, starts the local emulator, Redis (found or started), every worker and the gateway in this process, runs them end to end and prints the summary, the results and the Bull Board URL.',
    )
    .option('--dir <dir>', 'folder for the sample images, results and work files (default .rfbatch/demo)')
    .option('--images <n>', 'how many sample images to generate (default 200)')
    .option('--keep', 'keep the gateway (Bull Board) open after the run until Ctrl-C')
    .action(async (flags: { dir?: string; images?: string; keep?: boolean }) => {
      const images = flags.images === undefined ? undefined : Number(flags.images);
      if (images !== undefined && (!Number.isInteger(images) || images < 1 || images > 100_000)) {
        throw new CliError(
          ExitCode.usage,
          `--images must be a whole number from 1 to 100000 (got "${flags.images}")`,
        );
      }
      const result = await runDemo(app.io, {
        ...(flags.dir ? { dir: flags.dir } : {}),
        ...(images !== undefined ? { images } : {}),
        keep: flags.keep === true,
        verbose: app.verbose(),
      });
      if (result.status !== 'completed') app.exitCode = ExitCode.failed;
    });
}
