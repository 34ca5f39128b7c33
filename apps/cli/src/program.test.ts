import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { App } from './app.js';
import { buildProgram, COMMANDS, commandNamed } from './program.js';

const app = (): App => ({
  io: {
    stdout: { write: () => true },
    stderr: { write: () => true },
    env: {},
    cwd: process.cwd(),
    signal: new AbortController().signal,
  },
  verbose: () => false,
  exitCode: 0,
});

describe('the lazy command table', () => {
  it('lists each command with the summary its module gives it, in the same order', async () => {
    const program = await buildProgram(app(), { all: true });
    expect(program.commands.map((c) => [c.name(), c.summary()])).toEqual(
      COMMANDS.map((c) => [c.name, c.summary]),
    );
  });

  it('defines in full only the command named (also after the global flags, and for `help <command>`)', async () => {
    expect(commandNamed(['-v', 'status', 'r-1'])?.name).toBe('status');
    expect(commandNamed(['help', 'jobs'])?.name).toBe('jobs');
    expect(commandNamed(['--version'])).toBeUndefined();
    const program = await buildProgram(app(), ['status', '--json']);
    const status = program.commands.find((c) => c.name() === 'status');
    const ls = program.commands.find((c) => c.name() === 'ls');
    expect(status?.options.map((o) => o.long)).toContain('--json');
    expect(ls?.options).toEqual([]);
  });

  it('`rfbatch --version` and `rfbatch --help` import no @rfbatch package and none of the heavy libraries', () => {
    const main = fileURLToPath(new URL('./main.ts', import.meta.url));
    // Records every module the process resolves (a module hook, on its own thread, writing to stderr).
    const hook = `export async function resolve(s, c, next) { const r = await next(s, c); process.stderr.write('resolved ' + r.url + '\\n'); return r; }`;
    const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});`;
    for (const flag of ['--version', '--help']) {
      const child = spawnSync(
        process.execPath,
        ['--import', 'tsx', '--import', `data:text/javascript,${encodeURIComponent(register)}`, main, flag],
        { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } },
      );
      expect(child.status, child.stderr).toBe(0);
      const loaded = child.stderr
        .split('\n')
        .filter((l) => l.startsWith('resolved '))
        .map((l) => l.slice('resolved '.length));
      expect(loaded.some((u) => u.endsWith('/apps/cli/src/program.ts'))).toBe(true);
      expect(loaded.filter((u) => /\/(packages|services)\/|\/commands\//.test(u))).toEqual([]);
      expect(
        loaded.filter((u) => /node_modules\/(bullmq|ioredis|fastify|pino|undici|zod|@bull-board)\//.test(u)),
      ).toEqual([]);
    }
  });
});
