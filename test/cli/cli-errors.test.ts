/** Bad arguments and bad environments: one line on stderr, the documented exit code, no stack unless --verbose. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupPrefix, testPrefix, testRedisUrl } from '@rfbatch/testkit/redis';
import { cli, cliProcess } from './cli-harness.js';

const prefix = testPrefix('clierr');
let env: Record<string, string>;
let folder: string;

beforeAll(async () => {
  env = {
    REDIS_URL: testRedisUrl(),
    RFBATCH_PREFIX: prefix,
    ROBOFLOW_API_URL: 'http://127.0.0.1:9',
    LOG_LEVEL: 'error',
  };
  folder = await mkdtemp(join(tmpdir(), 'rfb-cli-err-'));
  await writeFile(join(folder, 'a.png'), 'not really');
});
afterAll(() => cleanupPrefix(prefix));

/** The single `rfbatch: …` line, and no stack trace. */
function reason(stderr: string): string {
  const lines = stderr
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('rfbatch: '));
  expect(lines).toHaveLength(1);
  expect(stderr).not.toMatch(/^\s+at /m);
  return lines[0] ?? '';
}

describe('rfbatch errors', () => {
  it('a bad batch id → exit 2, naming the flag, the value and the rule', async () => {
    const res = await cli(['run', folder, '--workflow', 'wf', '--batch-id', 'Bad Batch!'], env);
    expect(res.code).toBe(2);
    expect(reason(res.stderr)).toContain(
      '--batch-id: batch id "Bad Batch!" breaks the rule: 1 to 64 characters of a-z, 0-9, "_" and "-" (lowercase)',
    );
    const remote = await cli(['batches', 'show', 'UPPER'], env);
    expect(remote.code).toBe(2);
    expect(reason(remote.stderr)).toContain('batch id "UPPER" breaks the rule');
  });

  it('a job id over 20 characters and a bad number → exit 2', async () => {
    const res = await cli(['submit', folder, '--workflow', 'wf', '--job-id', 'a'.repeat(21)], env);
    expect(res.code).toBe(2);
    expect(reason(res.stderr)).toContain('--job-id: job id');
    const num = await cli(['run', folder, '--workflow', 'wf', '--workers-per-machine', 'many'], env);
    expect(num.code).toBe(2);
    expect(reason(num.stderr)).toContain('--workers-per-machine must be a number (got "many")');
  });

  it('a missing folder → exit 2 with the path it looked at', async () => {
    const res = await cli(['run', join(folder, 'nope'), '--workflow', 'wf'], env);
    expect(res.code).toBe(2);
    expect(reason(res.stderr)).toMatch(/source ".*nope" does not exist \(looked at .*nope\)/);
  });

  it('no API key for the real API → exit 3 before anything is submitted', async () => {
    const real = { ...env, ROBOFLOW_API_URL: 'https://api.roboflow.com' };
    const res = await cli(['run', folder, '--workflow', 'wf', '--local', '--run-id', 'r-nokey'], real);
    expect(res.code).toBe(3);
    expect(reason(res.stderr)).toMatch(
      /ROBOFLOW_API_KEY is not set, and https:\/\/api\.roboflow\.com\/? is not a local emulator — set it to the private API key/,
    );
    expect((await cli(['status', 'r-nokey'], real)).code).toBe(4);
    const remote = await cli(['jobs', 'ls'], real);
    expect(remote.code).toBe(3);
  });

  it('an unknown run → exit 4; no runs at all → exit 4', async () => {
    const res = await cli(['status', 'r-missing'], env);
    expect(res.code).toBe(4);
    expect(reason(res.stderr)).toContain('unknown run "r-missing"');
    const none = await cli(['status'], { ...env, RFBATCH_PREFIX: testPrefix('empty') });
    expect(none.code).toBe(4);
    expect(reason(none.stderr)).toContain('there are no runs yet');
  });

  it('Redis not reachable → exit 3 with what to do', async () => {
    const res = await cli(['ls'], { ...env, REDIS_URL: 'redis://127.0.0.1:9' });
    expect(res.code).toBe(3);
    expect(reason(res.stderr)).toMatch(
      /Redis at redis:\/\/127\.0\.0\.1:9 is not reachable — start it, or install Redis/,
    );
  });

  it('an invalid environment variable → exit 3 naming it', async () => {
    const res = await cli(['ls'], { ...env, RFBATCH_PREFIX: 'bad prefix' });
    expect(res.code).toBe(3);
    expect(res.stderr).toContain('RFBATCH_PREFIX');
  });

  it('usage errors from the parser → exit 2; --help → 0', async () => {
    const unknown = await cli(['run', folder, '--workflow', 'wf', '--frobnicate'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown option '--frobnicate'");
    const missing = await cli(['run', folder], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("required option '-w, --workflow <id>' not specified");
    const help = await cli(['status', '--help'], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: rfbatch status');
    expect((await cli(['workers', '--only', 'ingest,bogus'], env)).code).toBe(2);
  });

  it('--verbose adds the stack trace', async () => {
    const res = await cli(['status', 'r-missing', '--verbose'], env);
    expect(res.code).toBe(4);
    expect(res.stderr).toMatch(/^\s+at /m);
  });

  it('the real bin exits with the code (a child process)', async () => {
    const res = await cliProcess(['status', 'r-missing'], env);
    expect(res.code).toBe(4);
    expect(res.stderr.trim()).toBe(
      'rfbatch: unknown run "r-missing" — list runs with `rfbatch ls`; if it was running when Redis lost its data, `rfbatch recover <run>` rebuilds it from the work dir and the API',
    );
    const version = await cliProcess(['--version'], env);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
