/**
 * The whole pipeline in one process for end-to-end, CLI and chaos tests: the emulator, the ingest,
 * jobs and export services (and optionally the gateway) on a private Redis prefix, with temp work and
 * output folders. Services can also run as child processes (`spawnWorkers`) so a test can SIGKILL them,
 * or be left out (`ingest: false`, …) for a caller that runs them its own way (the chaos test, the
 * benchmarks' stack).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator, type Emulator, type EmulatorOptions } from '@rfbatch/emulator';
import { startExport, type ExportServiceOptions } from '@rfbatch/export';
import { startIngest, type IngestOptions } from '@rfbatch/ingest';
import { startJobs, type JobsServiceOptions } from '@rfbatch/jobs';
import {
  closeServiceContext,
  createLogger,
  createServiceContext,
  deletePrefix,
  freePort,
  loadConfig,
  newRunId,
  producerConnection,
  TERMINAL_STATUSES,
  type Config,
  type RunningService,
  type RunState,
  type ServiceContext,
} from '@rfbatch/shared';
import { submitRun } from '@rfbatch/run-control';
import { waitFor } from './wait-for.js';

export type ServiceName = 'ingest' | 'jobs' | 'export';

export interface StackOptions {
  /** @defaultValue the test run's Redis (inject('redisUrl')), else REDIS_URL */
  redisUrl?: string;
  /** @defaultValue a fresh `rfbt-stack-<hex>` */
  prefix?: string;
  /** Merged over fast test defaults (no webhooks, 50 ms indexing, no processing time). */
  emulator?: EmulatorOptions;
  /** Options per service, or false to leave it out of this process (e.g. to run it as a child). */
  ingest?: IngestOptions | false;
  jobs?: JobsServiceOptions | false;
  export?: ExportServiceOptions | false;
  /** Start the gateway on a free port and give jobs its webhook URL (needs emulator webhooks on). */
  gateway?: boolean;
  /** Extra environment for loadConfig. */
  env?: Record<string, string>;
  /** pino level of the services. @defaultValue RFBATCH_TEST_LOG or 'silent' */
  logLevel?: string;
}

/** Fast defaults for tests: short polls and locks, so waits and take-overs are quick. */
export const FAST_OPTIONS = {
  ingest: { lockDurationMs: 5_000, stalledIntervalMs: 5_000 } satisfies IngestOptions,
  jobs: { pollMinMs: 50, pollMaxMs: 500, lockDurationMs: 5_000 } satisfies JobsServiceOptions,
  export: { retryDelayMs: 50, lockDurationMs: 5_000 } satisfies ExportServiceOptions,
};

export interface SpawnedWorkers {
  child: ChildProcess;
  /** Resolves when the child's services are listening for work. */
  ready: Promise<void>;
  /** Resolves with the exit code (or signal name) when the child ends. */
  exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): Promise<number | string>;
}

export interface Stack {
  emulator: Emulator;
  redisUrl: string;
  prefix: string;
  workDir: string;
  /** A temp folder for results; runs submitted without `output` get `<outputDir>/<runId>`. */
  outputDir: string;
  config: Config;
  ctx: ServiceContext;
  services: RunningService[];
  /** The gateway's URL when started with `gateway: true`. */
  gatewayUrl?: string;
  /** Environment that points a child process at this stack (Redis, prefix, emulator, work dir). */
  env: Record<string, string>;
  /**
   * Submits a run. Missing fields are filled: `runId` (new), `workflow` (`wf-test`) and `output`
   * (`<outputDir>/<runId>`). Returns the run id.
   */
  submit(specInput: Record<string, unknown>): Promise<string>;
  /** Waits until the run ends (completed, failed or cancelled) and returns its state. */
  waitForRun(runId: string, timeoutMs?: number): Promise<RunState>;
  /** Waits until `predicate(state)` holds. */
  waitForState(runId: string, predicate: (s: RunState) => boolean, timeoutMs?: number): Promise<RunState>;
  /** Starts services in a child process on this stack (SIGKILL it to simulate a crash). */
  spawnWorkers(
    services: ServiceName[],
    options?: {
      jobs?: JobsServiceOptions;
      export?: ExportServiceOptions;
      ingest?: IngestOptions;
      /** Variables over the stack's (another RFBATCH_WORK_DIR: a host that shares no disk). */
      env?: Record<string, string>;
    },
  ): SpawnedWorkers;
  /** Stops the in-process services (children are the caller's). */
  stopServices(): Promise<void>;
  close(): Promise<void>;
}

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..', '..');

async function defaultRedisUrl(): Promise<string> {
  try {
    const { testRedisUrl } = await import('./redis.js');
    return testRedisUrl();
  } catch {
    if (process.env.REDIS_URL) return process.env.REDIS_URL;
    throw new Error(
      'startStack needs a Redis: run it under vitest (global setup) or pass redisUrl / set REDIS_URL',
    );
  }
}

function randomPrefix(): string {
  return `rfbt-stack-${Math.random().toString(16).slice(2, 10)}`;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const redisUrl = options.redisUrl ?? (await defaultRedisUrl());
  const prefix = options.prefix ?? randomPrefix();
  const workDir = await mkdtemp(join(tmpdir(), 'rfb-stack-work-'));
  const outputDir = await mkdtemp(join(tmpdir(), 'rfb-stack-out-'));
  const emulator = await startEmulator({
    port: 0,
    indexingDelayMs: 50,
    processingMsPerItem: 0,
    jobStartDelayMs: 20,
    webhooks: false,
    ...options.emulator,
  });

  const env: Record<string, string> = {
    REDIS_URL: redisUrl,
    RFBATCH_PREFIX: prefix,
    RFBATCH_WORK_DIR: workDir,
    ROBOFLOW_API_URL: emulator.url,
    ROBOFLOW_API_KEY: 'stack-test-key',
    RFBATCH_RETRY_BASE_DELAY_MS: '50',
    LOG_LEVEL: options.logLevel ?? process.env.RFBATCH_TEST_LOG ?? 'silent',
  };
  let gatewayPort: number | undefined;
  if (options.gateway) {
    gatewayPort = await freePort();
    Object.assign(env, {
      RFBATCH_GATEWAY_PORT: String(gatewayPort),
      RFBATCH_PUBLIC_URL: `http://127.0.0.1:${gatewayPort}`,
      RFBATCH_WEBHOOK_SECRET: `stack-webhook-secret-${prefix}`,
    });
  }
  Object.assign(env, options.env);
  const config = loadConfig(env);
  const logger = createLogger({ level: config.logLevel, name: 'stack' });
  const ctx = createServiceContext(config, logger);
  const services: RunningService[] = [];
  const stopServices = async () => {
    for (const s of services.splice(0).reverse()) await s.close();
  };

  let gatewayUrl: string | undefined;
  try {
    if (options.ingest !== false)
      services.push(await startIngest(ctx, { ...FAST_OPTIONS.ingest, ...options.ingest }));
    if (options.jobs !== false)
      services.push(await startJobs(ctx, { ...FAST_OPTIONS.jobs, ...options.jobs }));
    if (options.export !== false)
      services.push(await startExport(ctx, { ...FAST_OPTIONS.export, ...options.export }));
    if (options.gateway) {
      const { startGateway } = await import('@rfbatch/gateway');
      const gateway = await startGateway(ctx, { host: '127.0.0.1', port: gatewayPort ?? 0 });
      gatewayUrl = gateway.url;
      services.push({ name: 'gateway', workers: [], close: () => gateway.close() });
    }
  } catch (error) {
    await stopServices();
    await closeServiceContext(ctx);
    await emulator.close();
    throw error;
  }

  const children = new Set<ChildProcess>();

  const waitForState: Stack['waitForState'] = (runId, predicate, timeoutMs = 60_000) => {
    let state: RunState | null = null;
    return waitFor(
      async () => {
        state = await ctx.store.get(runId);
        return state && predicate(state) ? state : undefined;
      },
      timeoutMs,
      () =>
        `run ${runId} to reach the expected state within ${timeoutMs} ms; it is ${state?.status ?? 'unknown'}: ${JSON.stringify(state?.error ?? state?.counters ?? null)}`,
      50,
    );
  };

  return {
    emulator,
    redisUrl,
    prefix,
    workDir,
    outputDir,
    config,
    ctx,
    services,
    ...(gatewayUrl ? { gatewayUrl } : {}),
    env,
    async submit(specInput) {
      const runId = (specInput.runId as string | undefined) ?? newRunId();
      const spec = {
        workflow: { workflowId: 'wf-test' },
        output: { dir: join(outputDir, runId) },
        ...specInput,
        runId,
      };
      return (await submitRun(ctx.queues, ctx.store, spec)).runId;
    },
    waitForRun: (runId, timeoutMs) =>
      waitForState(runId, (s) => TERMINAL_STATUSES.includes(s.status), timeoutMs),
    waitForState,
    spawnWorkers(names, opts = {}) {
      const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'stack-workers.ts')], {
        cwd: repoRoot,
        env: {
          ...process.env,
          ...env,
          ...opts.env,
          RFBATCH_STACK_SERVICES: names.join(','),
          RFBATCH_STACK_OPTIONS: JSON.stringify({
            ingest: { ...FAST_OPTIONS.ingest, ...opts.ingest },
            jobs: { ...FAST_OPTIONS.jobs, ...opts.jobs },
            export: { ...FAST_OPTIONS.export, ...opts.export },
          }),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.add(child);
      let stderr = '';
      child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
      const exited = new Promise<number | string>((res) => {
        child.once('exit', (code, signal) => {
          children.delete(child);
          res(signal ?? code ?? 0);
        });
      });
      const ready = new Promise<void>((res, rej) => {
        let out = '';
        child.stdout?.on('data', (c: Buffer) => {
          out += c.toString();
          if (out.includes('rfbatch-stack-ready')) res();
        });
        void exited.then((code) =>
          rej(new Error(`workers exited (${code}) before they were ready: ${stderr}`)),
        );
      });
      ready.catch(() => {});
      return {
        child,
        ready,
        exited,
        async kill(signal: NodeJS.Signals = 'SIGKILL') {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          return exited;
        },
      };
    },
    stopServices,
    async close() {
      for (const child of children) child.kill('SIGKILL');
      await stopServices();
      await closeServiceContext(ctx);
      await emulator.close();
      const redis = producerConnection(config.redis, { enableOfflineQueue: true });
      try {
        await deletePrefix(redis, prefix);
      } finally {
        redis.disconnect();
      }
      await rm(workDir, { recursive: true, force: true });
      await rm(outputDir, { recursive: true, force: true });
    },
  };
}
