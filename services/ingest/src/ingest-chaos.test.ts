import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { uploadToSignedUrl } from '@rfbatch/shared';
import { pngBytes } from '@rfbatch/testkit/images';
import { startHarness, type Harness } from '@rfbatch/testkit/ingest-harness';
import { writeTree } from '@rfbatch/testkit/source-tree';

const REPO = resolve(import.meta.dirname, '../../..');
let h: Harness | undefined;
const children = new Set<ChildProcess>();
afterEach(async () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children.clear();
  await h?.close();
  h = undefined;
});

/** The ingest service as its own process (`main.ts`), configured like the harness. */
function spawnIngest(env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/ingest/src/main.ts'], {
    cwd: REPO,
    env: {
      ...process.env,
      ...env,
      RFBATCH_INGEST_LOCK_DURATION_MS: '2000',
      RFBATCH_INGEST_STALLED_INTERVAL_MS: '1000',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.add(child);
  return child;
}

async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise((r) => child.once('exit', r));
}

describe('ingest under crashes and faults', () => {
  it('finishes the run after the worker process is killed with SIGKILL in the middle of a shard', async () => {
    // A slow store, so a shard PUT lasts seconds and the kill lands inside one.
    h = await startHarness({ startService: false, emulator: { throttleBytesPerSecond: 40_000 } });
    const src = join(h.dir, 'src');
    await writeTree(
      src,
      Object.fromEntries(Array.from({ length: 240 }, (_, i) => [`d${i % 5}/img ${i}.png`, pngBytes(i)])),
    );
    const runId = await h.submit(
      h.spec({ kind: 'directory', path: src }, { upload: { shardMaxImages: 80 } }),
    );

    const first = spawnIngest(h.env);
    await expect
      .poll(async () => (await h!.ctx.queues.ingest.getActive()).some((j) => j.name === 'shard'), {
        timeout: 20_000,
        interval: 50,
      })
      .toBe(true);
    await sleep(700); // well inside a ~2 s PUT
    const before = await h.ctx.store.require(runId);
    expect(before.counters.shardsUploaded).toBeLessThan(3);
    first.kill('SIGKILL');
    await exited(first);

    spawnIngest(h.env);
    const state = await h.waitFor(runId, ['verifying'], 50_000);
    expect(state.counters).toMatchObject({ expected: 240, shardsUploaded: 3, filesUploaded: 240 });
    const spec = await h.ctx.store.spec(runId);
    expect(await h.ctx.client.countBatch(spec.batchId)).toBe(240);
    expect((await h.batchNames(spec.batchId)).sort()).toEqual(
      (await h.manifest(runId)).map((e) => e.name).sort(),
    );
  });

  it('ingests everything with 20% faults: 429 + Retry-After, 503, resets mid-upload and an expired signed URL', async () => {
    let firstPut = true;
    let puts = 0;
    h = await startHarness({
      emulator: {
        faults: {
          seed: 42,
          rateLimitRate: 0.07,
          retryAfterS: 1,
          serverErrorRate: 0.07,
          serverErrorStatuses: [503],
          resetRate: 0.07,
          signedUrlTtlS: 1,
        },
      },
      ingest: {
        // The first PUT starts after its signed URL has expired.
        upload: async (details, body, length, opts) => {
          puts++;
          if (firstPut) {
            firstPut = false;
            await sleep(1_500);
          }
          return uploadToSignedUrl(details, body, length, opts);
        },
      },
    });
    const src = join(h.dir, 'src');
    const few = join(h.dir, 'few');
    await writeTree(
      src,
      Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`s${i % 3}/x${i}.png`, pngBytes(i)])),
    );
    await writeTree(
      few,
      Object.fromEntries(Array.from({ length: 24 }, (_, i) => [`${i}.png`, pngBytes(`few${i}`)])),
    );
    const shards = await h.submit(
      h.spec({ kind: 'directory', path: src }, { upload: { shardMaxImages: 25 } }),
    );
    const singles = await h.submit(h.spec({ kind: 'directory', path: few }, { upload: { filesPerJob: 8 } }));
    for (const [runId, n] of [
      [shards, 300],
      [singles, 24],
    ] as const) {
      const state = await h.waitFor(runId, ['verifying'], 120_000);
      expect(state.counters.expected).toBe(n);
      const spec = await h.ctx.store.spec(runId);
      h.emulator.setFaults({ rateLimitRate: 0, serverErrorRate: 0, resetRate: 0 });
      expect(await h.ctx.client.countBatch(spec.batchId)).toBe(n);
      expect(new Set(await h.batchNames(spec.batchId)).size).toBe(n);
      h.emulator.setFaults({ rateLimitRate: 0.07, serverErrorRate: 0.07, resetRate: 0.07 });
    }
    // 12 shards of 25: the expired URL (at least) cost one more PUT, with a fresh URL.
    expect(puts).toBeGreaterThan(12);
  }, 150_000);

  it('slows every ingest worker when the API answers 429, then carries on', async () => {
    h = await startHarness({
      emulator: { faults: { rateLimitRate: 1, retryAfterS: 1, firstN: 4, pathPrefix: '/data-staging' } },
      env: { RFBATCH_RETRY_MAX_ATTEMPTS: '2' },
    });
    const src = join(h.dir, 'src');
    await writeTree(src, { 'a.png': pngBytes(1), 'b.png': pngBytes(2) });
    const runId = await h.submit(h.spec({ kind: 'directory', path: src }));
    await expect
      .poll(() => h!.ctx.queues.ingest.getRateLimitTtl(), { timeout: 10_000, interval: 20 })
      .toBeGreaterThan(0);
    const state = await h.waitFor(runId, ['verifying'], 20_000);
    expect(state.counters.expected).toBe(2);
    // The bounces were not failures: the plan job never used up an attempt.
    const plan = await h.ctx.queues.ingest.getJob(`plan-${runId}`);
    expect(plan?.attemptsMade ?? 0).toBeLessThanOrEqual(1);
  });
});
