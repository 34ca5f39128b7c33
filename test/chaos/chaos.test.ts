/**
 * Chaos (the scenario is scenario.ts, shared with bench/chaos.bench.ts): the services as separate
 * processes (two ingest, one jobs, one export), three runs of 3,000 images at once, while
 *  - a killer SIGKILLs a random worker process every 2–5 s and starts a new one in its place;
 *  - Redis (append-only file on) is restarted once, on the same port and data folder, mid-way;
 *  - the emulator answers 10 % of requests with a fault (429 with Retry-After, 502/503/504, resets).
 * Every run must complete with exactly one results line per source file, no downloaded output written
 * twice (each output's inode is watched while the runs go), and no BullMQ job left waiting afterwards.
 * Then: SIGTERM to every worker during a run → each exits cleanly within its close deadline, and new
 * processes complete the run. How long the runs take is the bench's to record (`npm run bench:chaos`),
 * not a bound here.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HANG_GUARD_MS, IMAGES, RUNS, startChaos, type Chaos } from './scenario.js';

let chaos: Chaos;

beforeAll(async () => {
  chaos = await startChaos();
}, 120_000);

afterAll(async () => {
  await chaos?.close();
});

describe('chaos', () => {
  it(
    `${RUNS} runs of ${IMAGES} images survive SIGKILLs every 2–5 s, a Redis restart and 10 % API faults`,
    async () => {
      const { stack } = chaos;
      const { runs, kills, redisRestartedAt, rewrites, firstInode, report } = await chaos.chaosRuns();
      console.info(`chaos: ${JSON.stringify(report)}`);
      if (chaos.selfExits.length)
        console.info(`chaos: processes that exited on their own:\n${chaos.selfExits.join('\n')}`);

      expect(redisRestartedAt).toBeDefined();
      expect(Object.values(kills).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(3);
      for (const { state, files } of runs) {
        expect(state.error, `run ${state.runId}`).toBeUndefined();
        expect(state.status).toBe('completed');
        expect(state.counters.downloadsDone).toBe(state.counters.downloadsTotal);
        const lines = (await readFile(join(stack.outputDir, state.runId, 'results.jsonl'), 'utf8'))
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { source: string; status: string });
        // Exactly one line per source file: same count, and every source once.
        expect(lines).toHaveLength(IMAGES);
        expect(new Set(lines.map((l) => l.source))).toEqual(new Set(files));
        expect(lines.filter((l) => l.status !== 'ok')).toEqual([]);
        // Every downloaded output is in place, and none was replaced after it first appeared.
        const inodes = await chaos.outputInodes(join(stack.outputDir, state.runId));
        expect(inodes.size).toBe(state.counters.downloadsTotal);
        for (const [path, ino] of inodes) expect(firstInode.get(`${state.runId}:${path}`), path).toBe(ino);
      }
      expect(rewrites).toEqual([]);

      // No job is left waiting: once the (restarted) workers drain what killed ones left, every queue is empty.
      const drainBy = Date.now() + 20_000;
      let left = await chaos.pendingJobs();
      while (Object.keys(left).length && Date.now() < drainBy) {
        await new Promise((r) => setTimeout(r, 250));
        left = await chaos.pendingJobs();
      }
      expect(left).toEqual({});
    },
    HANG_GUARD_MS + 60_000,
  );

  it('SIGTERM to every worker during a run: each exits within its deadline; a restart completes the run', async () => {
    const { runId, images, stopped, between, state } = await chaos.sigtermDuringRun();
    console.info(`chaos: SIGTERM exits ${JSON.stringify(stopped)}`);
    // runUntilSignal exits 0 only when the close finished before the deadline.
    for (const s of stopped) expect(s.code, s.slot).toBe(0);
    expect(between.status).not.toBe('failed');

    expect(state.error).toBeUndefined();
    expect(state.status).toBe('completed');
    const lines = (await readFile(join(chaos.stack.outputDir, runId, 'results.jsonl'), 'utf8'))
      .trim()
      .split('\n');
    expect(lines).toHaveLength(images);
    expect(new Set(lines.map((l) => (JSON.parse(l) as { source: string }).source)).size).toBe(images);
  }, 180_000);
});
