import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { RfbatchError, redactText } from '@rfbatch/shared';
import type { App } from './app.js';
import { registerBatches } from './commands/batches.js';
import { registerCancel } from './commands/cancel.js';
import { registerEmulator } from './commands/emulator.js';
import { registerGateway } from './commands/gateway.js';
import { registerJobs } from './commands/jobs.js';
import { registerLs } from './commands/ls.js';
import { registerPreflight } from './commands/preflight.js';
import { registerRetry } from './commands/retry.js';
import { registerRun } from './commands/run.js';
import { registerSchema } from './commands/schema.js';
import { registerStatus } from './commands/status.js';
import { registerSubmit } from './commands/submit.js';
import { registerWatch } from './commands/watch.js';
import { registerWorkers } from './commands/workers.js';
import { ExitCode, exitCodeOf, reasonOf } from './exit-codes.js';
import type { CliIO } from './io.js';

const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** The `rfbatch` command tree, writing to `app.io` (never to the process directly). */
export function buildProgram(app: App): Command {
  const program = new Command('rfbatch')
    .description(
      'Roboflow Batch Processing at scale: stage, run, follow and export batch jobs with BullMQ workers.',
    )
    .version(VERSION)
    .option('-v, --verbose', 'debug logs and stack traces on errors')
    .showHelpAfterError('(add --help for usage)')
    // Subcommands created below inherit these (commander copies them in .command()).
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void app.io.stdout.write(s),
      writeErr: (s) => void app.io.stderr.write(s),
    });
  registerRun(program, app);
  registerPreflight(program, app);
  registerSubmit(program, app);
  registerStatus(program, app);
  registerWatch(program, app);
  registerLs(program, app);
  registerCancel(program, app);
  registerRetry(program, app);
  registerWorkers(program, app);
  registerGateway(program, app);
  registerEmulator(program, app);
  registerSchema(program, app);
  registerBatches(program, app);
  registerJobs(program, app);
  return program;
}

/**
 * Runs one invocation and returns its exit code (main.ts sets process.exitCode with it). Failures
 * print one line, `rfbatch: <what happened> — <what to do>`; the stack only with --verbose.
 */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  let verbose = argv.includes('--verbose') || argv.includes('-v');
  const app: App = { io, verbose: () => verbose, exitCode: ExitCode.ok };
  const program = buildProgram(app);
  program.hook('preAction', () => {
    verbose = program.opts<{ verbose?: boolean }>().verbose === true;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return app.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; commander already printed its own one-line usage error.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    io.stderr.write(`rfbatch: ${redactText(reasonOf(error))}\n`);
    if (verbose) {
      const stack = error instanceof Error && error.stack ? error.stack : String(error);
      io.stderr.write(`${redactText(stack)}\n`);
      if (error instanceof RfbatchError && error.cause instanceof Error && error.cause.stack)
        io.stderr.write(`caused by: ${redactText(error.cause.stack)}\n`);
    }
    return exitCodeOf(error);
  }
}
