/**
 * Child processes for benchmarks: rfbatch services started as in production (the image runs the
 * `tsc -b` output in each workspace's dist/ with plain node), with their peak RSS read from /proc
 * (VmHWM) until they exit, and a tail of their stderr for failures. `RFBATCH_BENCH_RUNTIME=tsx` runs
 * their sources through tsx instead (as `npm start` does: about 30 MB more RSS per process).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '..', '..');

/** The process's high-water RSS in MB (VmHWM), or NaN when /proc has no such process. */
export function peakRssMb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
    return kb / 1024;
  } catch {
    return Number.NaN;
  }
}

/** CPU time (user + system) a process has used so far, in ms, from /proc (NaN when it is gone). */
export function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    const ticksPerSecond = 100;
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
  } catch {
    return Number.NaN;
  }
}

export interface ServiceProcess {
  name: string;
  child: ChildProcess;
  /** Highest VmHWM seen so far (sampled every 200 ms and at stop). */
  peakRssMb(): number;
  stderrTail(): string;
  exited: Promise<number | string>;
  /** Sends `signal` (SIGTERM) and waits for the exit; SIGKILL after `graceMs`. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | string>;
}

export type ServiceScript = 'ingest' | 'jobs' | 'export' | 'gateway';

/** `dist` (default: what the image runs) or `tsx` (the sources, as `npm start`). */
/** `RFBATCH_BENCH_NODE_OPTIONS`: flags added to every service's own (to try one; recorded in `machine`). */
export const SERVICE_EXTRA_NODE_OPTIONS = process.env.RFBATCH_BENCH_NODE_OPTIONS ?? '';
export const SERVICE_RUNTIME: 'dist' | 'tsx' = process.env.RFBATCH_BENCH_RUNTIME === 'tsx' ? 'tsx' : 'dist';

let built = false;
/** Compiles the services once per bench process (`tsc -b`, incremental: seconds when up to date). */
function buildServices(): void {
  if (built || SERVICE_RUNTIME === 'tsx') return;
  const tsc = resolve(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
  const projects = (['ingest', 'jobs', 'export', 'gateway'] as const).map((s) => `services/${s}`);
  execFileSync(process.execPath, [tsc, '-b', ...projects], {
    cwd: REPO,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  built = true;
}

/** The node arguments that run a service's entry point in `SERVICE_RUNTIME`. */
function serviceEntry(name: ServiceScript): string[] {
  buildServices();
  return SERVICE_RUNTIME === 'tsx'
    ? ['--import', 'tsx', resolve(REPO, 'services', name, 'src', 'main.ts')]
    : [resolve(REPO, 'services', name, 'dist', 'main.js')];
}

/** Starts `node <entry…>` with `env` (added to this process's PATH/HOME only). */
function startProcess(
  name: string,
  entry: string[],
  env: Record<string, string>,
  args: string[] = [],
): ServiceProcess {
  const child = spawn(process.execPath, [...entry, ...args], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  child.stdout?.resume();
  child.stderr?.on('data', (c: Buffer) => (tail = (tail + c.toString()).slice(-8_000)));
  let peak = 0;
  const sample = () => {
    const v = child.pid ? peakRssMb(child.pid) : Number.NaN;
    if (Number.isFinite(v)) peak = Math.max(peak, v);
  };
  const timer = setInterval(sample, 200);
  timer.unref();
  const exited = new Promise<number | string>((res) =>
    child.once('exit', (code, signal) => {
      clearInterval(timer);
      res(signal ?? code ?? 0);
    }),
  );
  return {
    name,
    child,
    peakRssMb: () => {
      sample();
      return peak;
    },
    stderrTail: () => tail,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000) {
      sample();
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill(signal);
      const timeout = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timeout);
      return code;
    },
  };
}

export function startService(
  name: ServiceScript,
  env: Record<string, string>,
  label: string = name,
): ServiceProcess {
  return startProcess(label, serviceEntry(name), env);
}

/** Runs a command to completion; rejects with its stderr when it exits non-zero. */
export function run(cmd: string, args: string[], opts: { cwd?: string } = {}): Promise<void> {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
    });
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2_000)));
    child.once('error', rej);
    child.once('exit', (code) =>
      code === 0 ? res() : rej(new Error(`${cmd} exited ${code}: ${err.trim()}`)),
    );
  });
}

/** `curl -T file` to a signed URL with its extension headers (the baseline's upload). */
export function curlPut(url: string, headers: Record<string, string>, file: string): Promise<void> {
  const headerArgs = Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
  return run('curl', ['-sS', '--fail', '-o', '/dev/null', '-T', file, ...headerArgs, url]);
}

/** `curl -o dest url` (the baseline's download). */
export function curlGet(url: string, dest: string): Promise<void> {
  return run('curl', ['-sS', '--fail', '-o', dest, url]);
}

/** Polls `fn` every `everyMs` until it returns a value; throws after `timeoutMs` with `what`. */
export async function until<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
