/**
 * rfbatch services as separate processes for chaos tests: start, SIGKILL, SIGTERM, restart, with a
 * tail of each process's output for failures. Each runs its `main.ts`, one line into the process
 * entry `rfbatch workers --only <name>` uses (runServices: same options, context, signals and close
 * deadline), without the CLI's start-up checks: a worker started while Redis restarts waits for it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../cli/cli-harness.js';

export type ServiceName = 'ingest' | 'jobs' | 'export';

export interface WorkerProcess {
  /** `ingest-1`, `jobs-1`, … (stable across restarts). */
  slot: string;
  service: ServiceName;
  child: ChildProcess;
  startedAt: number;
  /** Resolves with the exit code, or the signal name, when the process ends. */
  exited: Promise<number | string>;
  output(): string;
}

export function startWorkerProcess(
  slot: string,
  service: ServiceName,
  env: Record<string, string>,
): WorkerProcess {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(repoRoot, 'services', service, 'src', 'main.ts')],
    {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const keep = (c: Buffer) => (output = (output + c.toString()).slice(-6_000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? code ?? -1)),
  );
  return { slot, service, child, startedAt: Date.now(), exited, output: () => output };
}

export function isRunning(p: WorkerProcess): boolean {
  return p.child.exitCode === null && p.child.signalCode === null;
}

/** Sends `signal` and waits for the exit; returns the exit code (or signal) and how long it took. */
export async function stopWorker(
  p: WorkerProcess,
  signal: NodeJS.Signals,
): Promise<{ code: number | string; ms: number }> {
  const started = Date.now();
  if (isRunning(p)) p.child.kill(signal);
  const code = await p.exited;
  return { code, ms: Date.now() - started };
}
