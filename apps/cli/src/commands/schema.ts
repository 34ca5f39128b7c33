import type { Command } from 'commander';
import { runSpecJsonSchema } from '@rfbatch/shared';
import type { App } from '../app.js';
import { printJson } from '../io.js';

export function registerSchema(program: Command, app: App): void {
  program
    .command('schema')
    .summary('print the RunSpec JSON Schema (for producers in other languages)')
    .action(() => printJson(app.io, runSpecJsonSchema()));
}
