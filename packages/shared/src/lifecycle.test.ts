import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runUntilSignal } from './lifecycle.js';
import { captureLogger } from '@rfbatch/testkit/log-capture';

const fixture = fileURLToPath(import.meta.resolve('@rfbatch/testkit/lifecycle-service'));

/** Runs the fixture in its own process; sends `signal` once it says it started. */
function runFixture(
  mode: string,
  signal?: NodeJS.Signals,
): Promise<{ code: number | null; lines: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, mode], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (signal && out.includes('started; stop with')) {
        child.kill(signal);
        signal = undefined;
      }
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, lines: out.split('\n').filter(Boolean) }));
  });
}

const messages = (lines: string[]) => lines.map((l) => (JSON.parse(l) as { msg: string }).msg);

describe('runUntilSignal in a real process', () => {
  it('SIGTERM closes the service and exits 0, logs flushed', async () => {
    const { code, lines } = await runFixture('clean', 'SIGTERM');
    expect(code).toBe(0);
    const said = messages(lines);
    expect(said[0]).toBe('started; stop with SIGINT or SIGTERM');
    // Every line reaches stdout before the exit (pino's async stdout may reorder the last lines).
    expect([...said].sort()).toEqual(
      [
        'started; stop with SIGINT or SIGTERM',
        'stopping: no new work, waiting for running work',
        'fixture closed its work',
        'stopped',
      ].sort(),
    );
  });

  it('a close that overruns the deadline exits 1', async () => {
    const { code, lines } = await runFixture('hang', 'SIGINT');
    expect(code).toBe(1);
    expect(messages(lines)).toContain('did not stop within the deadline; exiting anyway');
    expect(messages(lines)).not.toContain('stopped');
  });

  it('a failed start exits 1 with the error logged', async () => {
    const { code, lines } = await runFixture('fail-start');
    expect(code).toBe(1);
    const last = JSON.parse(lines.at(-1) ?? '{}') as { msg: string; err: { message: string } };
    expect(last.msg).toBe('failed to start');
    expect(last.err.message).toBe('cannot reach Redis');
  });
});

describe('runUntilSignal in process', () => {
  it('a close that throws exits 1', async () => {
    const { logger, lines } = captureLogger();
    const codes: number[] = [];
    const done = runUntilSignal(
      async () => ({
        close: async () => {
          throw new Error('worker close failed');
        },
      }),
      { logger, deadlineMs: 1_000, signals: ['SIGUSR2'], exit: (c) => void codes.push(c) },
    );
    await new Promise((r) => setTimeout(r, 20));
    process.emit('SIGUSR2', 'SIGUSR2');
    expect(await done).toBe(1);
    expect(codes).toEqual([1]);
    expect(lines.some((l) => l.includes('close failed') && l.includes('worker close failed'))).toBe(true);
    expect(process.listenerCount('SIGUSR2')).toBe(0);
  });

  it('a second signal exits 1 at once, without waiting for the close', async () => {
    const { logger, lines } = captureLogger();
    const codes: number[] = [];
    let firstExit: (code: number) => void = () => {};
    const exited = new Promise<number>((r) => (firstExit = r));
    const done = runUntilSignal(async () => ({ close: () => new Promise<void>(() => {}) }), {
      logger,
      deadlineMs: 300,
      signals: ['SIGUSR2'],
      exit: (c) => {
        codes.push(c);
        firstExit(c);
      },
    });
    await new Promise((r) => setTimeout(r, 20));
    process.emit('SIGUSR2', 'SIGUSR2');
    process.emit('SIGUSR2', 'SIGUSR2');
    expect(await exited).toBe(1);
    expect(codes).toEqual([1]);
    expect(lines.some((l) => l.includes('second signal; exiting without waiting'))).toBe(true);
    expect(await done).toBe(1); // the deadline then ends the (still hanging) close
    expect(process.listenerCount('SIGUSR2')).toBe(0);
  });
});
