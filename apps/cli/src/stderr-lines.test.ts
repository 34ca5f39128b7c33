import { describe, expect, it } from 'vitest';
import { badJsonLines } from '@rfbatch/testkit/json-lines';
import { runCli } from './program.js';
import { stderrText } from './stderr-lines.js';

function io(env: Record<string, string>) {
  let err = '';
  return {
    io: {
      stdout: { write: () => true },
      stderr: { write: (s: string) => (err += s) },
      env,
      cwd: process.cwd(),
      signal: new AbortController().signal,
    },
    stderr: () => err,
  };
}

describe('stderr in JSON mode (LOG_FORMAT=json)', () => {
  it('turns each text line into a JSON line, ANSI stripped, a partial line kept until its end', () => {
    const { io: cliIo, stderr } = io({ LOG_FORMAT: 'json' });
    const write = stderrText(cliIo, 'warn');
    write('\u001b[32m✓ ingest\u001b[0m done\npart');
    write('ial\n\n');
    expect(badJsonLines(stderr())).toEqual([]);
    expect(
      stderr()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as object),
    ).toEqual([
      expect.objectContaining({ level: 40, name: 'rfbatch', msg: '✓ ingest done' }),
      expect.objectContaining({ level: 40, msg: 'partial' }),
    ]);
  });

  it('passes text through in human mode', () => {
    const { io: cliIo, stderr } = io({});
    stderrText(cliIo)('plain\n');
    expect(stderr()).toBe('plain\n');
  });

  it('reports a usage error and a failed command as JSON lines', async () => {
    const usage = io({ LOG_FORMAT: 'json' });
    expect(await runCli(['status', '--no-such-flag'], usage.io)).toBe(2);
    expect(badJsonLines(usage.stderr())).toEqual([]);
    expect(usage.stderr()).toContain('--no-such-flag');
    const failed = io({ LOG_FORMAT: 'json', REDIS_URL: 'redis://127.0.0.1:9' });
    expect(await runCli(['status'], failed.io)).not.toBe(0);
    expect(badJsonLines(failed.stderr())).toEqual([]);
    expect(failed.stderr()).toMatch(
      /"level":50,.*"msg":"rfbatch: Redis at redis:\/\/127\.0\.0\.1:9\/? is not reachable/,
    );
  });
});
