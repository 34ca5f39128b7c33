/**
 * The one process entry, started both ways a deployment starts it: a service's own `main.ts` and
 * `rfbatch workers --only <name>` (what docker-compose and the Dockerfile run). Both read the same
 * options (an old variable name still honoured, with one warning that names the new one), run until
 * SIGTERM and exit 0; both list every bad variable, shared and the service's own, in one error.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupPrefix, testPrefix, testRedisUrl } from '@rfbatch/testkit/redis';
import { repoRoot, rfbatchBin } from '../cli/cli-harness.js';

const prefix = testPrefix('entry');
afterAll(() => cleanupPrefix(prefix));

const ENTRIES = {
  'services/jobs/src/main.ts': ['--import', 'tsx', join(repoRoot, 'services', 'jobs', 'src', 'main.ts')],
  'rfbatch workers --only jobs': [rfbatchBin, 'workers', '--only', 'jobs'],
} as const;

interface Ran {
  code: number | null;
  output: string;
}

/** Starts an entry; once it says it is running (`started` in its log), sends SIGTERM. */
function run(args: readonly string[], env: Record<string, string>): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        REDIS_URL: testRedisUrl(),
        RFBATCH_PREFIX: prefix,
        // A loopback API: the CLI needs no key for it; the bare process is given one.
        ROBOFLOW_API_URL: 'http://127.0.0.1:9',
        ROBOFLOW_API_KEY: 'entry-test-key',
        LOG_LEVEL: 'info',
        LOG_FORMAT: 'json',
        // The source condition (vitest.config.ts): the bin and main.ts run the TypeScript, no build needed.
        NODE_OPTIONS: process.env.NODE_OPTIONS ?? '',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let signalled = false;
    const take = (chunk: Buffer) => {
      output += chunk.toString();
      if (!signalled && output.includes('started; stop with SIGINT or SIGTERM')) {
        signalled = true;
        child.kill('SIGTERM');
      }
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe.each(Object.entries(ENTRIES))('%s', (_name, args) => {
  it('reads its options once (an old name honoured and warned about once), runs until SIGTERM, exits 0', async () => {
    const { code, output } = await run(args, { RFBATCH_POLL_MIN_MS: '200' });
    expect(code, output).toBe(0);
    const lines = output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; services?: string[] });
    const said = lines.map((l) => l.msg);
    expect(said.filter((m) => m.includes('deprecated'))).toEqual([
      'RFBATCH_POLL_MIN_MS is deprecated: use RFBATCH_JOBS_POLL_MIN_MS',
    ]);
    expect(lines.find((l) => l.msg === 'services started')?.services).toEqual(['jobs']);
    expect(said).toContain('stopping: no new work, waiting for running work');
    expect(said).toContain('stopped');
  });

  it('lists every bad variable, shared and its own, in one error before anything starts', async () => {
    const result = await run(args, {
      RFBATCH_PREFIX: 'bad prefix',
      RFBATCH_JOBS_POLL_MIN_MS: 'soon',
      RFBATCH_LOCK_DURATION_MS: '5',
    });
    const { code } = result;
    // The CLI in JSON mode (LOG_FORMAT=json): the one error is one JSON line; its message is the text.
    const output = result.output
      .split('\n')
      .map((l) => (l.startsWith('{') ? (JSON.parse(l) as { msg: string }).msg : l))
      .join('\n');
    // A service's main.ts exits 1; the CLI exits 3 (bad environment), as for every command.
    expect(code).toBe(args[0] === rfbatchBin ? 3 : 1);
    expect(output).toMatch(/^rfbatch( jobs)?: invalid configuration:$/m);
    expect(output).toContain('  RFBATCH_PREFIX: letters, digits, _ and - only');
    expect(output).toContain('(got "bad prefix")');
    expect(output).toContain(
      '  RFBATCH_JOBS_POLL_MIN_MS: expected a whole number of at least 0 (got "soon")',
    );
    expect(output).toContain(
      '  RFBATCH_LOCK_DURATION_MS: expected a whole number of at least 1000 (got "5")',
    );
    expect(output).not.toContain('started');
  });
});
