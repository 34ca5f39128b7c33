/**
 * Chaos: the services as separate processes (two ingest, one jobs, one export), three runs of 3,000
 * images at once, while
 *  - a killer SIGKILLs a random worker process every 2–5 s and starts a new one in its place;
 *  - Redis (append-only file on) is restarted once, on the same port and data folder, mid-way;
 *  - the emulator answers 10 % of requests with a fault (429 with Retry-After, 502/503/504, resets).
 * Every run must complete within the bound the test prints, with exactly one results line per source
 * file, no downloaded output written twice (each output's inode is watched while the runs go), and no
 * BullMQ job left waiting afterwards. Then: SIGTERM to every worker during a run → each exits cleanly
 * within its close deadline, and new processes complete the run.
 */
import { randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pngBytes } from '@rfbatch/testkit/images';
import { writeTree } from '@rfbatch/testkit/source-tree';
import { startStack, type Stack } from '@rfbatch/testkit/stack';
import { spawnRedis, TERMINAL_STATUSES, type QueueName, type RunState } from '@rfbatch/shared';
import {
  isRunning,
  startWorkerProcess,
  stopWorker,
  type ServiceName,
  type WorkerProcess,
} from './worker-processes.js';

const RUNS = 3;
const IMAGES = 3_000;
/** Small shards, so kills land in the middle of uploads and downloads. */
const SHARD_IMAGES = 100;
/** Each run must end within this long after its submission (printed). */
const RUN_BOUND_MS = 180_000;
/** The close deadline of every service process (runUntilSignal's default in each main.ts). */
const CLOSE_DEADLINE_MS = 30_000;
const SLOTS: Array<[string, ServiceName]> = [
  ['ingest-1', 'ingest'],
  ['ingest-2', 'ingest'],
  ['jobs-1', 'jobs'],
  ['export-1', 'export'],
];
const QUEUES: Record<ServiceName, QueueName[]> = {
  ingest: ['ingest', 'runs'],
  jobs: ['jobs'],
  export: ['export'],
};

let redisDir: string;
let redis: Awaited<ReturnType<typeof spawnRedis>>;
let stack: Stack;
let env: Record<string, string>;
const workers = new Map<string, WorkerProcess>();
/** Processes that ended without being told to (printed; restarted like killed ones). */
const selfExits: string[] = [];
/** Processes we stopped on purpose. */
const expectedExits = new Set<WorkerProcess>();

function start(slot: string, service: ServiceName): WorkerProcess {
  const p = startWorkerProcess(slot, service, env);
  workers.set(slot, p);
  void p.exited.then((code) => {
    if (workers.get(slot) === p && !expectedExits.has(p))
      selfExits.push(`${slot} exited ${code}: ${p.output().slice(-500)}`);
  });
  return p;
}

async function kill(p: WorkerProcess, signal: NodeJS.Signals) {
  expectedExits.add(p);
  return stopWorker(p, signal);
}

/** Waits until every service has at least one worker listening on its queues. */
async function workersListening(timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const counts = await Promise.all(
      SLOTS.flatMap(([, s]) => QUEUES[s]).map(
        async (q) => (await stack.ctx.queues[q].getWorkers().catch(() => [])).length,
      ),
    );
    if (counts.every((n) => n > 0)) return;
    if (Date.now() > deadline)
      throw new Error(
        `workers did not come up:\n${[...workers.values()].map((w) => `${w.slot}: ${w.output()}`).join('\n')}`,
      );
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function restartRedis(): Promise<void> {
  await redis.stop();
  redis = await spawnRedis({ port: redis.port, appendOnly: true, dir: redisDir });
}

beforeAll(async () => {
  redisDir = await mkdtemp(join(tmpdir(), 'rfb-chaos-redis-'));
  redis = await spawnRedis({ appendOnly: true, dir: redisDir });
  // Nothing runs in this process but the emulator and the test's own Redis client. Remote jobs take
  // a few seconds (2 ms per image), so the chaos meets every stage of every run.
  stack = await startStack({
    redisUrl: redis.url,
    ingest: false,
    jobs: false,
    export: false,
    emulator: { processingMsPerItem: 2 },
  });
  env = {
    ...stack.env,
    LOG_LEVEL: 'warn',
    // Short locks: a killed worker's job is taken over within seconds.
    RFBATCH_INGEST_LOCK_DURATION_MS: '2000',
    RFBATCH_INGEST_STALLED_INTERVAL_MS: '2000',
    RFBATCH_LOCK_DURATION_MS: '2000',
    RFBATCH_POLL_MIN_MS: '200',
    RFBATCH_POLL_MAX_MS: '1000',
  };
  for (const [slot, service] of SLOTS) start(slot, service);
  await workersListening();
}, 120_000);

afterAll(async () => {
  await Promise.all([...workers.values()].map((w) => kill(w, 'SIGKILL')));
  await stack?.close();
  await redis?.stop();
  if (redisDir) await rm(redisDir, { recursive: true, force: true });
});

/**
 * Staging folders (`<archive>.partial-<hex>`) that a killed extraction left in the output folder.
 * Known defect, reported: the export never removes them; they are counted and printed, not outputs.
 */
const leftovers = new Set<string>();

/** Paths of downloaded outputs (extracted archive folders and plain files) with their inode. */
async function outputInodes(outDir: string): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  const outputs = join(outDir, 'outputs');
  const parts = await readdir(outputs, { withFileTypes: true }).catch(() => []);
  for (const part of parts) {
    if (!part.isDirectory()) continue;
    const entries = await readdir(join(outputs, part.name)).catch(() => [] as string[]);
    for (const name of entries) {
      // Staging folders and partial downloads are not outputs (yet).
      if (/\.partial-[0-9a-f]+$/.test(name)) leftovers.add(join(outputs, part.name, name));
      if (name.startsWith('.') || name.endsWith('.part') || /\.partial-[0-9a-f]+$/.test(name)) continue;
      const st = await stat(join(outputs, part.name, name)).catch(() => undefined);
      if (st) found.set(`${part.name}/${name}`, st.ino);
    }
  }
  return found;
}

async function sourceTree(name: string): Promise<{ dir: string; files: string[] }> {
  const dir = join(stack.workDir, name);
  const files: Record<string, Buffer> = {};
  for (let i = 0; i < IMAGES; i++) files[`f-${i % 10}/img-${i}.png`] = pngBytes(`${name}-${i}`);
  await writeTree(dir, files);
  return { dir, files: Object.keys(files) };
}

describe('chaos', () => {
  it(
    `${RUNS} runs of ${IMAGES} images survive SIGKILLs every 2–5 s, a Redis restart and 10 % API faults`,
    async () => {
      console.info(`chaos: each run must finish within ${RUN_BOUND_MS / 1000} s of its submission`);
      const sources = await Promise.all(Array.from({ length: RUNS }, (_, r) => sourceTree(`chaos-${r}`)));
      stack.emulator.setFaults({
        seed: 7,
        rateLimitRate: 0.03,
        retryAfterS: 1,
        serverErrorRate: 0.04,
        // 500 is not retried (like the official client): a fault that would fail a run by design.
        serverErrorStatuses: [502, 503, 504],
        resetRate: 0.03,
      });

      const submittedAt = new Map<string, number>();
      const runIds: string[] = [];
      let done = false;
      const kills: Record<string, number> = {};
      let redisRestartedAt: number | undefined;
      const rewrites: string[] = [];
      const firstInode = new Map<string, number>();

      // Watches every run's outputs: a path whose inode changes was written twice.
      const watcher = (async () => {
        while (!done) {
          for (const runId of runIds) {
            for (const [path, ino] of await outputInodes(join(stack.outputDir, runId))) {
              const key = `${runId}:${path}`;
              const seen = firstInode.get(key);
              if (seen === undefined) firstInode.set(key, ino);
              else if (seen !== ino) rewrites.push(key);
            }
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      })();

      // Kills a random worker process every 2–5 s and puts a new one in its place.
      const killer = (async () => {
        while (!done) {
          await new Promise((r) => setTimeout(r, randomInt(2_000, 5_001)));
          if (done) break;
          const [slot, service] = SLOTS[randomInt(0, SLOTS.length)]!;
          const victim = workers.get(slot)!;
          if (isRunning(victim)) {
            await kill(victim, 'SIGKILL');
            kills[slot] = (kills[slot] ?? 0) + 1;
          }
          start(slot, service);
        }
      })();

      // Restarts Redis once, when the first run has reached the remote job (or after 20 s).
      const restarter = (async () => {
        const t0 = Date.now();
        for (;;) {
          const states = await Promise.all(runIds.map((id) => stack.ctx.store.get(id).catch(() => null)));
          if (
            Date.now() - t0 > 20_000 ||
            states.some((s) => s && ['processing', 'exporting', 'completed'].includes(s.status))
          )
            break;
          await new Promise((r) => setTimeout(r, 250));
        }
        await restartRedis();
        redisRestartedAt = Date.now();
      })();

      for (let r = 0; r < RUNS; r++) {
        const runId = await stack.submit({
          runId: `chaos-${r}`,
          source: { kind: 'directory', path: sources[r]!.dir },
          upload: { shardMaxImages: SHARD_IMAGES },
        });
        submittedAt.set(runId, Date.now());
        runIds.push(runId);
        // Staggered, so the runs are at different stages when the kills and the Redis restart come.
        if (r < RUNS - 1) await new Promise((res) => setTimeout(res, 4_000));
      }

      const finals: RunState[] = [];
      try {
        for (const runId of runIds) {
          const left = submittedAt.get(runId)! + RUN_BOUND_MS - Date.now();
          finals.push(await stack.waitForRun(runId, Math.max(left, 1_000)));
        }
      } finally {
        done = true;
        await Promise.all([killer, watcher, restarter]);
        // Self-exits among the dead are restarted too, so the queues can drain.
        for (const [slot, service] of SLOTS) if (!isRunning(workers.get(slot)!)) start(slot, service);
        stack.emulator.setFaults({ rateLimitRate: 0, serverErrorRate: 0, resetRate: 0 });
      }

      const report = {
        kills,
        redisRestartedAfterS: redisRestartedAt
          ? Math.round((redisRestartedAt - Math.min(...submittedAt.values())) / 1000)
          : null,
        runs: finals.map((s) => ({
          runId: s.runId,
          status: s.status,
          seconds: Math.round((Date.parse(s.finishedAt ?? s.updatedAt) - submittedAt.get(s.runId)!) / 1000),
        })),
        selfExits: selfExits.length,
        leftoverPartialFolders: [...leftovers].filter((p) => existsSync(p)).length,
      };
      console.info(`chaos: ${JSON.stringify(report)}`);
      if (selfExits.length)
        console.info(`chaos: processes that exited on their own:\n${selfExits.join('\n')}`);

      expect(redisRestartedAt).toBeDefined();
      expect(Object.values(kills).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(3);
      for (const [r, state] of finals.entries()) {
        expect(state.error, `run ${state.runId}`).toBeUndefined();
        expect(state.status).toBe('completed');
        expect(Date.parse(state.finishedAt!) - submittedAt.get(state.runId)!).toBeLessThanOrEqual(
          RUN_BOUND_MS,
        );
        expect(state.counters.downloadsDone).toBe(state.counters.downloadsTotal);
        const lines = (await readFile(join(stack.outputDir, state.runId, 'results.jsonl'), 'utf8'))
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { source: string; status: string });
        // Exactly one line per source file: same count, and every source once.
        expect(lines).toHaveLength(IMAGES);
        expect(new Set(lines.map((l) => l.source))).toEqual(new Set(sources[r]!.files));
        expect(lines.filter((l) => l.status !== 'ok')).toEqual([]);
        // Every downloaded output is in place, and none was replaced after it first appeared.
        const inodes = await outputInodes(join(stack.outputDir, state.runId));
        expect(inodes.size).toBe(state.counters.downloadsTotal);
        for (const [path, ino] of inodes) expect(firstInode.get(`${state.runId}:${path}`), path).toBe(ino);
      }
      expect(rewrites).toEqual([]);

      // No job is left waiting: once the (restarted) workers drain what killed ones left, every queue is empty.
      const pending = async () => {
        const out: Record<string, number> = {};
        for (const [name, q] of Object.entries(stack.ctx.queues)) {
          const counts = await q.getJobCounts('wait', 'active', 'delayed', 'waiting-children', 'prioritized');
          for (const [state, n] of Object.entries(counts)) if (n > 0) out[`${name}:${state}`] = n;
        }
        return out;
      };
      const drainBy = Date.now() + 20_000;
      let left = await pending();
      while (Object.keys(left).length && Date.now() < drainBy) {
        await new Promise((r) => setTimeout(r, 250));
        left = await pending();
      }
      expect(left).toEqual({});
    },
    RUNS * RUN_BOUND_MS + 60_000,
  );

  it('SIGTERM to every worker during a run: each exits within its deadline; a restart completes the run', async () => {
    await workersListening();
    const n = 600;
    const dir = join(stack.workDir, 'sigterm');
    await writeTree(
      dir,
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`img-${i}.png`, pngBytes(`sigterm-${i}`)])),
    );
    // Slow uploads, so shard jobs are in flight when the signal comes.
    stack.emulator.setFaults({ pathPrefix: '/_storage/', latencyMs: 400 });
    const runId = await stack.submit({
      runId: 'chaos-sigterm',
      source: { kind: 'directory', path: dir },
      upload: { shardMaxImages: 50 },
    });
    await stack.waitForState(
      runId,
      (s) => s.counters.shardsUploaded >= 1 || TERMINAL_STATUSES.includes(s.status),
      60_000,
    );

    const stopped = await Promise.all(
      [...workers.values()].map(async (w) => ({ slot: w.slot, ...(await kill(w, 'SIGTERM')) })),
    );
    console.info(`chaos: SIGTERM exits ${JSON.stringify(stopped)}`);
    for (const s of stopped) {
      // runUntilSignal exits 0 only when the close finished before the deadline.
      expect(s.code, s.slot).toBe(0);
      expect(s.ms, s.slot).toBeLessThanOrEqual(CLOSE_DEADLINE_MS);
    }
    const between = await stack.ctx.store.require(runId);
    expect(between.status).not.toBe('failed');

    stack.emulator.setFaults({ pathPrefix: '', latencyMs: 0 });
    for (const [slot, service] of SLOTS) start(slot, service);
    const state = await stack.waitForRun(runId, 120_000);
    expect(state.error).toBeUndefined();
    expect(state.status).toBe('completed');
    const lines = (await readFile(join(stack.outputDir, runId, 'results.jsonl'), 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(n);
    expect(new Set(lines.map((l) => (JSON.parse(l) as { source: string }).source)).size).toBe(n);
  }, 180_000);
});
