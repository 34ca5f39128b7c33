import { existsSync, readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import type { App } from './app.js';
import type { CliIO } from './io.js';
import { traced } from './cli-tracing.js';
import { jsonLine, jsonLogs, stderrText } from './stderr-lines.js';
import { suggestMisspelledOptions } from './suggest-options.js';
import { addExamples } from './help-examples.js';

const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

type Register = (program: Command, app: App) => void;

interface CommandEntry {
  name: string;
  /** What `rfbatch --help` lists: the same line the module gives its command (program.test.ts checks). */
  summary: string;
  /** The module that defines the command, imported only when the command runs or shows its own help. */
  load(): Promise<Register>;
}

/**
 * The subcommands, in the order `rfbatch --help` lists them. Their modules pull in the clients, queues,
 * workers and servers behind them, so only the one an invocation names is imported: `rfbatch --version`
 * and `rfbatch --help` import none of them and start in a few tens of milliseconds.
 */
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'run',
    summary: 'submit a run and follow it to the end with live progress',
    load: async () => (await import('./commands/run.js')).registerRun,
  },
  {
    name: 'stage',
    summary: 'upload a source into a staging batch and wait until it is indexed (no job)',
    load: async () => (await import('./commands/stage.js')).registerStage,
  },
  {
    name: 'preflight',
    summary: 'check a run before anything is uploaded, and print its plan',
    load: async () => (await import('./commands/preflight.js')).registerPreflight,
  },
  {
    name: 'submit',
    summary: 'submit a run to the workers and print its id',
    load: async () => (await import('./commands/submit.js')).registerSubmit,
  },
  {
    name: 'status',
    summary: 'show one run (the newest when no id is given)',
    load: async () => (await import('./commands/status.js')).registerStatus,
  },
  {
    name: 'report',
    summary: "write a run's self-contained report.html (stats, sample gallery, failures)",
    load: async () => (await import('./commands/report.js')).registerReport,
  },
  {
    name: 'watch',
    summary: 'follow a run to its end with live progress',
    load: async () => (await import('./commands/watch.js')).registerWatch,
  },
  {
    name: 'ls',
    summary: 'list runs, newest first',
    load: async () => (await import('./commands/ls.js')).registerLs,
  },
  {
    name: 'cancel',
    summary: 'cancel a run (and abort its remote job)',
    load: async () => (await import('./commands/cancel.js')).registerCancel,
  },
  {
    name: 'retry',
    summary: 'retry a failed or cancelled run from the stage that failed',
    load: async () => (await import('./commands/retry.js')).registerRetry,
  },
  {
    name: 'recover',
    summary: 'rebuild a run that Redis lost, from the work dir and the API, and resume it',
    load: async () => (await import('./commands/recover.js')).registerRecover,
  },
  {
    name: 'workers',
    summary: 'run the worker services (ingest, jobs, export) in this process',
    load: async () => (await import('./commands/workers.js')).registerWorkers,
  },
  {
    name: 'gateway',
    summary: 'run the HTTP gateway: submit API, webhooks, Bull Board, /metrics, /healthz',
    load: async () => (await import('./commands/gateway.js')).registerGateway,
  },
  {
    name: 'emulator',
    summary: 'run the local Roboflow API emulator (same flags as rfbatch-emulator; --help lists them)',
    load: async () => (await import('./commands/emulator.js')).registerEmulator,
  },
  {
    name: 'demo',
    summary: 'the whole pipeline on generated sample images against the local emulator, in this process',
    load: async () => (await import('./commands/demo.js')).registerDemo,
  },
  {
    name: 'schema',
    summary: 'print the RunSpec JSON Schema (for producers in other languages)',
    load: async () => (await import('./commands/schema.js')).registerSchema,
  },
  {
    name: 'batches',
    summary: 'inspect Data Staging batches (as `inference rf-cloud data-staging` does)',
    load: async () => (await import('./commands/batches.js')).registerBatches,
  },
  {
    name: 'jobs',
    summary: 'inspect and control batch jobs (as `inference rf-cloud batch-processing` does)',
    load: async () => (await import('./commands/jobs.js')).registerJobs,
  },
  {
    name: 'completion',
    summary: 'print the shell completion script (bash, zsh or fish)',
    load: async () => (await import('./commands/completion.js')).registerCompletion,
  },
];

/**
 * The subcommand an argument list names (`rfbatch [-v] <command> …` or `rfbatch help <command>`), if
 * any: the program's own options are flags, so the first word that is not one is the command.
 */
export function commandNamed(argv: readonly string[]): CommandEntry | undefined {
  const words = argv.filter((a) => !a.startsWith('-'));
  const name = words[0] === 'help' ? words[1] : words[0];
  return COMMANDS.find((c) => c.name === name);
}

/**
 * The `rfbatch` command tree, writing to `app.io` (never to the process directly). The command `argv`
 * names is defined in full, every other one by its name and summary only (enough for `--help`, and for
 * commander's "did you mean" on a typo); `{ all: true }` defines every command in full.
 */
export async function buildProgram(
  app: App,
  argv: readonly string[] | { all: true } = { all: true },
): Promise<Command> {
  const program = new Command('rfbatch')
    .description(
      'Roboflow Batch Processing at scale: stage, run, follow and export batch jobs with BullMQ workers.',
    )
    .version(VERSION)
    .option('-v, --verbose', 'debug logs and stack traces on errors')
    .option(
      '--profile <name>',
      'the profile of .rfbatch.json / ~/.config/rfbatch/config.json to use (RFBATCH_PROFILE)',
    )
    .option(
      '--api-key <key>',
      'Roboflow API key for this command (visible in process lists and shell history: ROBOFLOW_API_KEY is the recommended way)',
    )
    .addHelpText(
      'after',
      '\nComing from `inference rf-cloud`? docs/migrating-from-rf-cloud.md maps every command and flag:\n' +
        '  data-staging create-batch-of-images|videos → rfbatch stage · batch-processing process-*-with-workflow → rfbatch run --batch\n' +
        '  list-jobs / job-details / fetch-logs -o / abort-job / restart-job / trt-compile → rfbatch jobs ls|show|logs -o|abort|restart|trt-compile\n' +
        '  list-batches / show-batch-details / list-batch-content / export-batch → rfbatch batches ls|show|content|export\n' +
        '  Every listing pages like the official one: --page-size, --max-pages, --all.\n' +
        '  The API key: ROBOFLOW_API_KEY (recommended) or --api-key on any command.',
    )
    .hook('preAction', (_root, action) => {
      const key = (action.optsWithGlobals() as { apiKey?: string }).apiKey;
      if (key) app.io.env.ROBOFLOW_API_KEY = key;
    })
    .showHelpAfterError('(add --help for usage)')
    // Subcommands created below inherit these (commander copies them in .command()).
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void app.io.stdout.write(s),
      writeErr: stderrText(app.io, 'error'),
    });
  const wanted = 'all' in argv ? undefined : commandNamed(argv);
  // `completion` prints every command's subcommands and options: all are defined in full for it.
  const every = 'all' in argv || wanted?.name === 'completion';
  for (const entry of COMMANDS) {
    if (every || entry === wanted) (await entry.load())(program, app);
    else program.command(entry.name).summary(entry.summary);
  }
  suggestMisspelledOptions(program);
  for (const command of program.commands) addExamples(command);
  return program;
}

/** Whether a `.env`, a profiles file or a profile name is there to read (cli-environment.ts). */
function environmentFiles(argv: readonly string[], io: CliIO): boolean {
  const { env, cwd } = io;
  const xdg = env.XDG_CONFIG_HOME || (env.HOME ? `${env.HOME}/.config` : undefined);
  return (
    argv.some((a) => a === '--profile' || a.startsWith('--profile=')) ||
    Boolean(env.RFBATCH_PROFILE || env.RFBATCH_CONFIG) ||
    existsSync(`${cwd}/.env`) ||
    existsSync(`${cwd}/.rfbatch.json`) ||
    (xdg !== undefined && existsSync(`${xdg}/rfbatch/config.json`))
  );
}

/**
 * Runs one invocation and returns its exit code (main.ts sets process.exitCode with it). Failures
 * print one line, `rfbatch: <what happened> — <what to do>`; the stack only with --verbose.
 */
export async function runCli(argv: string[], processIo: CliIO): Promise<number> {
  let verbose = argv.includes('--verbose') || argv.includes('-v');
  let io = processIo;
  const app: App = { io, verbose: () => verbose, exitCode: 0 };
  try {
    // `.env` and the profile (--profile, RFBATCH_PROFILE, `default`) under the environment's own
    // variables; imported only when there is one, so `--version` stays light.
    const setup = environmentFiles(argv, processIo)
      ? await (await import('./cli-environment.js')).cliEnvironment(argv, processIo)
      : undefined;
    if (setup) io = app.io = setup.io;
    const program = await buildProgram(app, argv);
    program.hook('preAction', () => {
      verbose = program.opts<{ verbose?: boolean }>().verbose === true;
    });
    if (setup?.profile)
      (await import('./cli-environment.js')).applyFlagDefaults(program, setup.profile.flags);
    await traced(io, argv, () => program.parseAsync(argv, { from: 'user' }));
    return app.exitCode;
  } catch (error) {
    // Help and version exit 0 (commander printed them), before anything heavy is imported.
    if (error instanceof CommanderError && error.exitCode === 0) return 0;
    // Imported here, not above: `--version` and `--help` never need them (see COMMANDS).
    const { ExitCode, exitCodeOf, reasonOf } = await import('./exit-codes.js');
    // Commander already printed its own one-line usage error.
    if (error instanceof CommanderError) return ExitCode.usage;
    const { RfbatchError, redactText } = await import('@rfbatch/shared');
    if (jsonLogs(io)) {
      // One JSON line, however many lines the message has (a configuration error lists each variable).
      const stack = verbose && error instanceof Error ? { stack: redactText(error.stack ?? '') } : {};
      io.stderr.write(jsonLine(`rfbatch: ${redactText(reasonOf(error))}`, 'error', stack));
      return exitCodeOf(error);
    }
    const writeErr = stderrText(io, 'error');
    writeErr(`rfbatch: ${redactText(reasonOf(error))}\n`);
    if (verbose) {
      const stack = error instanceof Error && error.stack ? error.stack : String(error);
      writeErr(`${redactText(stack)}\n`);
      if (error instanceof RfbatchError && error.cause instanceof Error && error.cause.stack)
        writeErr(`caused by: ${redactText(error.cause.stack)}\n`);
    }
    return exitCodeOf(error);
  }
}
