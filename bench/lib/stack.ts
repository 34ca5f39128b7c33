/**
 * The benchmark's own deployment, built on the test kit's stack (the emulator in this process, no
 * rfbatch service in it): a private Redis (so command and memory figures are rfbatch's alone), and
 * rfbatch services as separate processes (as in production), each run on its own key prefix.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Emulator, EmulatorOptions } from '@rfbatch/emulator';
import {
  closeQueues,
  createQueues,
  RunStore,
  spawnRedis,
  TERMINAL_STATUSES,
  type QueueName,
  type Queues,
  type RunState,
} from '@rfbatch/shared';
import {
  SERVICE_EXTRA_NODE_OPTIONS,
  startService,
  until,
  type ServiceProcess,
  type ServiceScript,
} from './proc.js';
import { RedisProbe } from './redis-probe.js';
import { submitRun } from '@rfbatch/run-control';
import { startStack } from '@rfbatch/testkit/stack';

export const BENCH_API_KEY = 'bench-api-key';

/** The queues a service's workers listen on (how we know it is up). */
const LISTENS: Record<Exclude<ServiceScript, 'gateway'>, QueueName[]> = {
  ingest: ['ingest', 'runs'],
  jobs: ['jobs'],
  export: ['export'],
};

interface Producer {
  queues: Queues;
  store: RunStore;
  /** Submits a RunSpec as any producer would (its Redis commands count as rfbatch's). */
  submit(spec: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

/**
 * The runtime flags docker-compose.yml gives each service (see its comments; test/processes/
 * compose-file.test.ts checks the file has them): a V8 heap cap for all, and for ingest a 2 MB young
 * generation and two malloc arenas.
 */
export const SERVICE_RUNTIME_ENV: Record<ServiceScript, { NODE_OPTIONS: string; MALLOC_ARENA_MAX?: string }> =
  {
    ingest: { NODE_OPTIONS: '--max-old-space-size=512 --max-semi-space-size=2', MALLOC_ARENA_MAX: '2' },
    jobs: { NODE_OPTIONS: '--max-old-space-size=512' },
    export: { NODE_OPTIONS: '--max-old-space-size=512' },
    gateway: { NODE_OPTIONS: '--max-old-space-size=512' },
  };

export interface BenchStack {
  redisUrl: string;
  /** True when the Redis is the benchmark's own (figures are clean). */
  privateRedis: boolean;
  emulator: Emulator;
  workDir: string;
  probe: RedisProbe;
  /** Environment of a service process for runs under `prefix`. */
  serviceEnv(service: ServiceScript, prefix: string, extra?: Record<string, string>): Record<string, string>;
  /** Starts service processes and waits until their workers listen. */
  startServices(
    prefix: string,
    services: ServiceScript[],
    extra?: Record<string, string>,
  ): Promise<ServiceProcess[]>;
  producer(prefix: string): Producer;
  /** Waits (polling on the probe connection, not counted) until the run is terminal. */
  waitForRun(
    prefix: string,
    runId: string,
    timeoutMs: number,
    onPoll?: (state: RunState | null) => void,
  ): Promise<RunState>;
  close(): Promise<void>;
}

export async function startBenchStack(emulatorOptions: EmulatorOptions = {}): Promise<BenchStack> {
  const workDir = await mkdtemp(join(tmpdir(), 'rfbatch-bench-'));
  const redisHandle = process.env.REDIS_URL
    ? { url: process.env.REDIS_URL, stop: async () => {} }
    : await mkdir(join(workDir, 'redis')).then(() => spawnRedis({ dir: join(workDir, 'redis') }));
  // The emulator in this process; the services run as processes (startServices), so none starts here.
  const stack = await startStack({
    redisUrl: redisHandle.url,
    prefix: 'rfbatch-bench',
    ingest: false,
    jobs: false,
    export: false,
    emulator: {
      apiKeys: [BENCH_API_KEY],
      indexingDelayMs: 0,
      processingMsPerItem: 0,
      jobStartDelayMs: 0,
      webhooks: false,
      dataDir: join(workDir, 'emulator'),
      ...emulatorOptions,
    },
    env: { ROBOFLOW_API_KEY: BENCH_API_KEY },
    logLevel: 'warn',
  });
  const { emulator } = stack;
  const probe = new RedisProbe(redisHandle.url);
  const processes: ServiceProcess[] = [];
  const producers: Producer[] = [];
  // Interrupted (Ctrl-C, or all.ts stopped): leave no service process or private Redis behind.
  const onSignal = (signal: NodeJS.Signals) => {
    for (const p of processes) p.child.kill('SIGKILL');
    void redisHandle.stop().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const serviceEnv = (service: ServiceScript, prefix: string, extra: Record<string, string> = {}) => ({
    ...SERVICE_RUNTIME_ENV[service],
    REDIS_URL: redisHandle.url,
    RFBATCH_PREFIX: prefix,
    RFBATCH_WORK_DIR: join(workDir, 'work'),
    ROBOFLOW_API_URL: emulator.url,
    ROBOFLOW_API_KEY: BENCH_API_KEY,
    LOG_LEVEL: 'warn',
    ...extra,
    // What docker-compose.yml gives the service, before the bench's own flags.
    NODE_OPTIONS: [SERVICE_RUNTIME_ENV[service].NODE_OPTIONS, SERVICE_EXTRA_NODE_OPTIONS, extra.NODE_OPTIONS]
      .filter(Boolean)
      .join(' '),
  });

  return {
    redisUrl: redisHandle.url,
    privateRedis: !process.env.REDIS_URL,
    emulator,
    workDir,
    probe,
    serviceEnv,
    async startServices(prefix, services, extra = {}) {
      const started = services.map((name, i) =>
        startService(name, serviceEnv(name, prefix, extra), `${name}-${i}`),
      );
      processes.push(...started);
      const queues = createQueues(probe.redis, prefix);
      try {
        const want = new Map<QueueName, number>();
        for (const name of services)
          if (name !== 'gateway') for (const q of LISTENS[name]) want.set(q, (want.get(q) ?? 0) + 1);
        await until(
          `${services.join(', ')} to listen`,
          async () => {
            for (const p of started) {
              if (p.child.exitCode !== null)
                throw new Error(`${p.name} exited early (${p.child.exitCode}): ${p.stderrTail()}`);
            }
            for (const [q, n] of want) if ((await queues[q].getWorkers()).length < n) return undefined;
            return true;
          },
          120_000,
          100,
        );
      } finally {
        await closeQueues(queues);
      }
      return started;
    },
    producer(prefix) {
      const connection = new Redis(redisHandle.url, { maxRetriesPerRequest: null });
      const queues = createQueues(connection, prefix);
      const store = new RunStore(connection, prefix);
      const producer: Producer = {
        queues,
        store,
        submit: async (spec) => (await submitRun(queues, store, spec)).runId,
        async close() {
          await closeQueues(queues);
          connection.disconnect();
        },
      };
      producers.push(producer);
      return producer;
    },
    async waitForRun(prefix, runId, timeoutMs, onPoll) {
      const store = new RunStore(probe.redis, prefix);
      return until(
        `run ${runId} to end`,
        async () => {
          const state = await store.get(runId);
          onPoll?.(state);
          return state && TERMINAL_STATUSES.includes(state.status) ? state : undefined;
        },
        timeoutMs,
        100,
      );
    },
    async close() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await Promise.all(processes.map((p) => p.stop('SIGTERM', 10_000)));
      for (const p of producers) await p.close().catch(() => {});
      probe.close();
      await stack.close();
      await redisHandle.stop();
      await rm(workDir, { recursive: true, force: true });
    },
  };
}
