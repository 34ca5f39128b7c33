import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import type { App } from '../app.js';

/** The emulator's own bin, next to its sources: `rfbatch emulator` takes exactly its flags. */
function emulatorBin(): string {
  return fileURLToPath(new URL('../bin/rfbatch-emulator.js', import.meta.resolve('@rfbatch/emulator')));
}

export function registerEmulator(program: Command, app: App): void {
  program
    .command('emulator')
    .summary('run the local Roboflow API emulator (same flags as rfbatch-emulator; --help lists them)')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[flags...]', 'rfbatch-emulator flags')
    .action(async (_flags: string[], _opts: unknown, command: Command) => {
      const child = spawn(process.execPath, [emulatorBin(), ...command.args], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: app.io.env,
      });
      child.stdout.on('data', (chunk: Buffer) => app.io.stdout.write(chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => app.io.stderr.write(chunk.toString()));
      const stop = () => child.kill('SIGTERM');
      app.io.signal.addEventListener('abort', stop, { once: true });
      const code = await new Promise<number>((resolve) =>
        child.once('exit', (c, signal) => resolve(c ?? (signal ? 128 + 15 : 1))),
      );
      app.io.signal.removeEventListener('abort', stop);
      app.exitCode = code;
    });
}
