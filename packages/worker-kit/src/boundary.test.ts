import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Job, Worker } from 'bullmq';
import {
  ApiError,
  closeServiceContext,
  createLogger,
  createServiceContext,
  ErrorCode,
  loadConfig,
  resolveRunSpec,
  RfbatchError,
  RunSpecSchema,
  stageJobId,
  type ServiceContext,
} from '@rfbatch/shared';
import { cleanupPrefix, testPrefix, testRedisUrl } from '@rfbatch/testkit/redis';
import { advance } from './advance.js';
import { defineProcessor, type ProcessorMap } from './processor.js';
import { assertProcessors, createStageWorker } from './stage-worker.js';

/** What the handlers of this file share with the test: their calls, and what the next one does. */
interface Deps {
  calls: string[];
  verify: (jc: { data: { runId: string }; state: { wait?: unknown } }) => Promise<unknown>;
  await: () => Promise<unknown>;
}

const processors = {
  verify: defineProcessor('jobs', 'verify', async (jc, deps: Deps) => {
    deps.calls.push(`verify:${jc.data.runId}:${jc.run.attempt}:${jc.spec.batchId}`);
    return deps.verify(jc);
  }),
  start: defineProcessor('jobs', 'start', async (_jc, deps: Deps) => {
    deps.calls.push('start');
    return {};
  }),
  await: defineProcessor(
    'jobs',
    'await',
    async (jc, deps: Deps) => {
      deps.calls.push(`await:${jc.run.status}`);
      return deps.await();
    },
    { skip: 'never', unit: ({ attempt }) => `poll ${attempt}` },
  ),
} satisfies ProcessorMap<'jobs', Deps>;

let prefix: string;
let ctx: ServiceContext;
let worker: Worker | undefined;
const deps: Deps = { calls: [], verify: async () => ({}), await: async () => ({ ran: true }) };
let runs = 0;

beforeAll(() => {
  prefix = testPrefix('kit');
  const config = loadConfig({
    REDIS_URL: testRedisUrl(),
    RFBATCH_PREFIX: prefix,
    // A client is made but never called: these handlers do not touch the API.
    ROBOFLOW_API_KEY: 'test-key',
    ROBOFLOW_API_URL: 'http://127.0.0.1:9',
    LOG_LEVEL: 'silent',
  });
  ctx = createServiceContext(config, createLogger({ level: 'silent' }));
});
afterEach(async () => {
  await worker?.close();
  worker = undefined;
  deps.calls = [];
  deps.verify = async () => ({});
  deps.await = async () => ({ ran: true });
});
afterAll(async () => {
  await closeServiceContext(ctx);
  await cleanupPrefix(prefix);
});

function start(options: { pauseOnRateLimit?: boolean } = {}): Worker {
  worker = createStageWorker(ctx, {
    queue: 'jobs',
    processors,
    deps,
    concurrency: 2,
    lockDurationMs: 5_000,
    stalledIntervalMs: 5_000,
    ...options,
  });
  return worker;
}

async function newRun(): Promise<string> {
  const runId = `kit-${runs++}`;
  const spec = resolveRunSpec(
    RunSpecSchema.parse({
      runId,
      source: { kind: 'directory', path: '/nowhere' },
      workflow: { workflowId: 'wf' },
      output: { dir: '/nowhere/out' },
    }),
  );
  await ctx.store.create(spec);
  await ctx.store.setStatus(runId, 'verifying');
  return runId;
}

async function settled(job: Job): Promise<Job> {
  await expect.poll(() => job.getState(), { timeout: 15_000, interval: 20 }).toMatch(/^(completed|failed)$/);
  return (await ctx.queues.jobs.getJob(job.id!)) as Job;
}

describe('the processor boundary', () => {
  it('fails a malformed payload at once, listing the fields, without calling the handler', async () => {
    start();
    const job = await ctx.queues.jobs.add(
      'verify',
      { runId: 'Not A Run!', attempt: -1, extra: true },
      { jobId: 'malformed', attempts: 5 },
    );
    const done = await settled(job);
    expect(await done.getState()).toBe('failed');
    expect(done.attemptsMade).toBe(1);
    expect(done.failedReason).toMatch(/^malformed jobs\/verify job malformed: /);
    for (const field of ['runId: ', 'attempt: ', '(root): Unrecognized key: "extra"'])
      expect(done.failedReason).toContain(field);
    expect(deps.calls).toEqual([]);
  });

  it('fails the run of a job that failed for good outside the handler (the failed-event backstop)', async () => {
    start();
    const runId = await newRun();
    // It names a run, but does not parse: the boundary fails it before any handler could fail the run.
    const job = await ctx.queues.jobs.add('start', { runId, attempt: 0, typo: 1 }, { jobId: 'backstop' });
    expect(await (await settled(job)).getState()).toBe('failed');
    await expect.poll(async () => (await ctx.store.require(runId)).status, { timeout: 5_000 }).toBe('failed');
    const state = await ctx.store.require(runId);
    expect(state.failedStage).toBe('start');
    expect(state.error?.message).toMatch(/^start job backstop failed: malformed jobs\/start job backstop: /);
    expect(state.error?.hint).toContain(`rfbatch retry ${runId}`);
  });

  it('passes the parsed payload, the kept state and the run; a key of state that does not parse reads as absent', async () => {
    start();
    const runId = await newRun();
    const seen: unknown[] = [];
    deps.verify = async (jc) => {
      seen.push(jc.state);
      return {};
    };
    const good = await ctx.queues.jobs.add(
      'verify',
      { runId, wait: { polls: 2, firstSeenAt: 5 } },
      { jobId: stageJobId('verify', runId) },
    );
    expect((await settled(good)).returnvalue).toEqual({});
    const bad = await ctx.queues.jobs.add('verify', { runId, wait: 'garbage' }, { jobId: 'bad-state' });
    expect(await (await settled(bad)).getState()).toBe('completed');
    expect(seen).toEqual([{ wait: { polls: 2, firstSeenAt: 5 } }, {}]);
    expect(deps.calls[0]).toBe(`verify:${runId}:0:${(await ctx.store.spec(runId)).batchId}`);
  });

  it('skips a job of an older attempt and a job of an ended run, unless the processor asks to run', async () => {
    start();
    const runId = await newRun();
    await ctx.store.reopen(runId, 'verifying');
    const stale = await ctx.queues.jobs.add('verify', { runId, attempt: 0 }, { jobId: 'stale' });
    expect((await settled(stale)).returnvalue).toEqual({ skipped: 'stale' });
    await ctx.store.setStatus(runId, 'cancelled');
    const ended = await ctx.queues.jobs.add('start', { runId, attempt: 1 }, { jobId: 'ended' });
    expect((await settled(ended)).returnvalue).toEqual({ skipped: 'cancelled' });
    const woken = await ctx.queues.jobs.add('await', { runId, attempt: 1 }, { jobId: 'woken' });
    expect((await settled(woken)).returnvalue).toEqual({ ran: true });
    expect(deps.calls).toEqual(['await:cancelled']);
  });

  it('retries a retryable failure, and fails the run at the stage on the last attempt', async () => {
    start();
    const runId = await newRun();
    deps.verify = async () => {
      throw new RfbatchError(ErrorCode.network, 'the network went away', {
        retryable: true,
        hint: 'try later',
      });
    };
    const job = await ctx.queues.jobs.add(
      'verify',
      { runId, attempt: 0 },
      { jobId: 'last-attempt', attempts: 2, backoff: { type: 'fixed', delay: 10 } },
    );
    const done = await settled(job);
    expect(done.attemptsMade).toBe(2);
    expect(await done.getState()).toBe('failed');
    expect(deps.calls).toHaveLength(2);
    const state = await ctx.store.require(runId);
    expect(state.status).toBe('failed');
    expect(state.failedStage).toBe('verify');
    expect(state.error).toEqual({
      code: ErrorCode.network,
      message: 'the network went away',
      hint: 'try later',
    });
  });

  it('fails the run at once on a non-retryable error, naming the unit of the job', async () => {
    start();
    const runId = await newRun();
    deps.await = async () => {
      throw new RfbatchError(ErrorCode.run, 'the job vanished', { hint: 'look for it' });
    };
    const job = await ctx.queues.jobs.add(
      'await',
      { runId, attempt: 0 },
      { jobId: 'unrecoverable', attempts: 5 },
    );
    const done = await settled(job);
    expect(done.attemptsMade).toBe(1);
    // Non-retryable: BullMQ's UnrecoverableError, with the message and its hint.
    expect(done.failedReason).toBe('the job vanished — look for it');
    const state = await ctx.store.require(runId);
    expect(state.failedStage).toBe('await');
    expect(state.error?.message).toBe('poll 0: the job vanished');
  });

  it('pauses the whole queue on a 429 without spending an attempt, when the worker asks for it', async () => {
    const w = start({ pauseOnRateLimit: true });
    const runId = await newRun();
    let tries = 0;
    deps.verify = async () => {
      if (tries++ === 0)
        throw new ApiError(ErrorCode.apiRateLimited, 'GET /x', 429, 'slow down', {
          retryable: true,
          retryAfterMs: 300,
        });
      return { tries };
    };
    const job = await ctx.queues.jobs.add('verify', { runId, attempt: 0 }, { jobId: 'limited', attempts: 1 });
    await expect
      .poll(() => ctx.queues.jobs.getRateLimitTtl(), { timeout: 10_000, interval: 10 })
      .toBeGreaterThan(0);
    const done = await settled(job);
    expect(done.returnvalue).toEqual({ tries: 2 });
    expect(await done.getState()).toBe('completed');
    expect(w.isRunning()).toBe(true);
  });
});

describe('processor maps', () => {
  it('refuses at start-up a map with a missing, an extra or a misplaced handler', () => {
    const { verify, start: startP } = processors;
    expect(() => assertProcessors('jobs', { verify, start: startP })).toThrow(
      'queue "jobs" handlers do not match the job catalog: missing [await], unknown []',
    );
    expect(() => assertProcessors('jobs', { ...processors, poll: verify })).toThrow(
      'queue "jobs" handlers do not match the job catalog: missing [], unknown [poll]',
    );
    expect(() => assertProcessors('jobs', { ...processors, start: verify })).toThrow(
      'defined for another job [start: jobs/verify]',
    );
    expect(() => assertProcessors('jobs', processors)).not.toThrow();
  });
});

describe('advance', () => {
  it('ends the stage, adds the next job under its id, then sets the status', async () => {
    const runId = await newRun();
    await ctx.store.stageStarted(runId, 'verify');
    const next = await advance(ctx, runId, 0, {
      from: 'verify',
      to: { queue: 'jobs', name: 'start' },
      status: 'starting',
    });
    expect(next.id).toBe(stageJobId('start', runId));
    expect(next.data).toEqual({ runId, attempt: 0 });
    const state = await ctx.store.require(runId);
    expect(state.status).toBe('starting');
    expect(state.timings.verify?.endedAt).toBeDefined();
    // Adding it twice is a no-op.
    await advance(ctx, runId, 0, { to: { queue: 'jobs', name: 'start' } });
    expect(await ctx.queues.jobs.getJobCountByTypes('waiting')).toBeGreaterThanOrEqual(1);
    expect((await ctx.queues.jobs.getJobs(['waiting'])).filter((j) => j.id === next.id)).toHaveLength(1);
  });
});
