/** submit / status / cancel / retry / watch --local on a run, with no worker running until watch brings its own. */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pngBytes } from '@rfbatch/testkit/images';
import { writeTree } from '@rfbatch/testkit/source-tree';
import { startStack, type Stack } from '@rfbatch/testkit/stack';
import { cli } from './cli-harness.js';

let stack: Stack;
let env: Record<string, string>;
let source: string;

beforeAll(async () => {
  stack = await startStack({ ingest: false, jobs: false, export: false });
  env = { ...stack.env, RFBATCH_POLL_MIN_MS: '100', RFBATCH_POLL_MAX_MS: '400', LOG_LEVEL: 'error' };
  source = join(stack.workDir, 'few');
  await writeTree(
    source,
    Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`a/img-${i}.png`, pngBytes(i)])),
  );
}, 60_000);
afterAll(() => stack.close());

describe('submit, status, cancel, retry, watch', () => {
  it('submits (prints the id), cancels, retries and finishes the run with watch --local', async () => {
    const out = join(stack.outputDir, 'control');
    const submitted = await cli(
      ['submit', source, '--workflow', 'wf', '--run-id', 'r-cli-control', '--out', out],
      env,
    );
    expect(submitted.code).toBe(0);
    expect(submitted.stdout).toBe('r-cli-control\n');

    const again = await cli(
      ['submit', source, '--workflow', 'wf', '--run-id', 'r-cli-control', '--out', out, '--json'],
      env,
    );
    expect(JSON.parse(again.stdout)).toEqual({ runId: 'r-cli-control', created: false });

    const queued = JSON.parse((await cli(['status', 'r-cli-control', '--json'], env)).stdout) as {
      status: string;
    };
    expect(queued.status).toBe('queued');

    const cancelled = await cli(['cancel', 'r-cli-control'], env);
    expect(cancelled.code).toBe(0);
    expect(cancelled.stdout).toContain('run r-cli-control cancelled');
    const twice = await cli(['cancel', 'r-cli-control', '--json'], env);
    expect(JSON.parse(twice.stdout)).toMatchObject({
      runId: 'r-cli-control',
      status: 'cancelled',
      cancelled: false,
    });

    // Watching a cancelled run ends at once with its reason.
    const watchCancelled = await cli(['watch', 'r-cli-control'], env);
    expect(watchCancelled.code).toBe(1);
    expect(watchCancelled.stderr).toMatch(/^rfbatch: run r-cli-control cancelled/m);

    const retried = await cli(['retry', 'r-cli-control'], env);
    expect(retried.code).toBe(0);
    expect(retried.stdout).toContain('retried (attempt 2) from plan');

    const watched = await cli(['watch', 'r-cli-control', '--local', '--json'], env);
    expect(watched.stderr).not.toMatch(/^rfbatch: /m);
    expect(watched.code).toBe(0);
    const summary = JSON.parse(watched.stdout) as { state: string; counts: Record<string, number> };
    expect(summary.state).toBe('completed');
    expect(summary.counts.results).toBe(5);

    const status = JSON.parse((await cli(['status', 'r-cli-control', '--json'], env)).stdout) as {
      status: string;
      attempt: number;
    };
    expect(status).toMatchObject({ status: 'completed', attempt: 1 });
  });

  it('refuses to retry a run that completed', async () => {
    const res = await cli(['retry', 'r-cli-control'], env);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('only a failed or cancelled run can be retried');
  });

  it('detaches on Ctrl-C: the run stays where it is and the command says how to resume', async () => {
    const controller = new AbortController();
    const out = join(stack.outputDir, 'detach');
    // No workers anywhere and --local not given: it goes local. Ctrl-C once the run has left "queued"
    // (not after a fixed time: a fast machine finishes this small run in a few hundred ms).
    const started = setInterval(() => {
      void stack.ctx.store.get('r-cli-detach').then((s) => {
        if (s && s.status !== 'queued') controller.abort();
      });
    }, 10);
    const res = await cli(
      ['run', source, '--workflow', 'wf', '--run-id', 'r-cli-detach', '--out', out],
      env,
      { signal: controller.signal },
    ).finally(() => clearInterval(started));
    expect(res.code).toBe(130);
    expect(res.stderr).toMatch(
      /run r-cli-detach is paused at "\w+"\. Resume it with: rfbatch watch r-cli-detach --local/,
    );
    const resumed = await cli(['watch', 'r-cli-detach', '--local', '--json'], env);
    expect(resumed.code).toBe(0);
    expect((JSON.parse(resumed.stdout) as { state: string }).state).toBe('completed');
  });
});
