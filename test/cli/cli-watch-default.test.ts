/**
 * `rfbatch watch` with no id follows the newest run, like `status`; a run that failed with a triaged
 * job ends it with one short line (what happened, what to do). Real Redis, the run store as the
 * workers leave it.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunSpecSchema, RunStore, resolveRunSpec } from '@rfbatch/shared';
import { cleanupPrefix, testPrefix, testRedisUrl } from '@rfbatch/testkit/redis';
import { cli } from './cli-harness.js';

const prefix = testPrefix('watch');
let redis: Redis;
let store: RunStore;
const env = { REDIS_URL: testRedisUrl(), RFBATCH_PREFIX: prefix, LOG_LEVEL: 'error' };

async function failedRun(runId: string): Promise<void> {
  const spec = resolveRunSpec(
    RunSpecSchema.parse({
      runId,
      source: { kind: 'directory', path: '/tmp/none' },
      workflow: { workflowId: 'wf' },
      output: { dir: `/tmp/${runId}` },
    }),
  );
  await store.create(spec);
  await store.fail(runId, 'await', {
    code: 'run',
    message: `remote job "rfb-1" failed; ${'[error] worker-oom: out of memory (OOMKilled, exit code 137); '.repeat(10)}`,
    hint: `rfbatch retry ${runId} --workers-per-machine 1; read all logs with \`rfbatch jobs logs rfb-1\``,
    triage: {
      class: 'out-of-memory',
      summary: 'the job ran out of memory with 4 workers per cpu machine: each worker loads the models',
      evidence: ['[error] worker-oom: out of memory'],
      suggestedOverrides: { workersPerMachine: 1 },
      suggestion: `rfbatch retry ${runId} --workers-per-machine 1`,
      logsRead: 10,
      logsTruncated: false,
    },
  });
}

beforeAll(async () => {
  redis = new Redis(testRedisUrl());
  store = new RunStore(redis, prefix);
  await failedRun('watch-older');
  await new Promise((r) => setTimeout(r, 5));
  await failedRun('watch-newest');
});
afterAll(async () => {
  redis.disconnect();
  await cleanupPrefix(prefix);
});

describe('rfbatch watch', () => {
  it('follows the newest run when no id is given, and ends a triaged failure in one short line', async () => {
    const res = await cli(['watch'], env);
    expect(res.code).toBe(1);
    const line = res.stderr.trim().split('\n').at(-1) ?? '';
    expect(line).toBe(
      'rfbatch: run watch-newest failed at await: out of memory (the job ran out of memory with 4 workers per cpu machine) — rfbatch retry watch-newest --workers-per-machine 1; details: rfbatch status watch-newest',
    );
    const named = await cli(['watch', 'watch-older'], env);
    expect(named.stderr).toContain('run watch-older failed at await');
  });
});
