/** Runs `rfbatch` in this process with captured output (fast), or as a real child process (bin, exit code). */
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '@rfbatch/cli';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd?: string;
  signal?: AbortSignal;
  confirm?: (question: string) => Promise<boolean>;
  tty?: boolean;
}

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const rfbatchBin = join(repoRoot, 'apps', 'cli', 'bin', 'rfbatch.js');

export async function cli(
  args: string[],
  env: Record<string, string | undefined>,
  options: CliOptions = {},
): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: { write: (s: string) => (stdout += s), isTTY: false },
    stderr: { write: (s: string) => (stderr += s), isTTY: options.tty ?? false, columns: 120 },
    env,
    cwd: options.cwd ?? process.cwd(),
    signal: options.signal ?? new AbortController().signal,
    ...(options.confirm ? { confirm: options.confirm } : {}),
  });
  return { code, stdout, stderr };
}

/** The real `rfbatch` bin in a child process. */
export function cliProcess(args: string[], env: Record<string, string | undefined>): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [rfbatchBin, ...args], {
      // NODE_OPTIONS carries the source condition (vitest.config.ts): the bin runs the TypeScript, no build needed.
      env: { PATH: process.env.PATH, NODE_OPTIONS: process.env.NODE_OPTIONS, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolvePromise({ code: code ?? -1, stdout, stderr }));
  });
}
