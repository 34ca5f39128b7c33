import { Argument, type Command } from 'commander';
import type { App } from '../app.js';
import { completionScript, SHELLS, type Shell } from '../completion.js';

export function registerCompletion(program: Command, app: App): void {
  program
    .command('completion')
    .summary('print the shell completion script (bash, zsh or fish)')
    .addArgument(new Argument('<shell>', 'the shell').choices(SHELLS))
    .action((shell: Shell) => {
      app.io.stdout.write(completionScript(shell, program));
    });
}
