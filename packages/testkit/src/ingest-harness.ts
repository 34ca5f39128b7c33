/** The ingest service under test: a real emulator, the test run's Redis, a running ingest service. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type Emulator, type EmulatorOptions } from '@rfbatch/emulator';
import { ingestRateLimiter, startIngest, type IngestOptions } from '@rfbatch/ingest';
import { submitRun } from '@rfbatch/run-control';
import {
  closeServiceContext,
  createLogger,
  createServiceContext,
  loadConfig,
  ManifestEntry,
  readJsonLines,
  runPaths,
  type RunSpecInput,
  type RunState,
  type Logger,
  type RunningService,
  type ServiceContext,
} from '@rfbatch/shared';
import { cleanupPrefix, testPrefix, testRedisUrl } from './redis.js';
import { waitFor } from './wait-for.js';

export interface Harness {
  emulator: Emulator;
  ctx: ServiceContext;
  service: RunningService | undefined;
  prefix: string;
  dir: string;
  workDir: string;
  env: Record<string, string>;
  spec(source: RunSpecInput['source'], extra?: Partial<RunSpecInput>): RunSpecInput;
  submit(spec: RunSpecInput): Promise<string>;
  waitFor(runId: string, statuses: RunState['status'][], timeoutMs?: number): Promise<RunState>;
  manifest(runId: string): Promise<ManifestEntry[]>;
  batchNames(batchId: string): Promise<string[]>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  emulator?: EmulatorOptions;
  ingest?: IngestOptions;
  /** Extra environment for loadConfig (e.g. a wrong ROBOFLOW_API_KEY). */
  env?: Record<string, string>;
  /** Start the ingest service in this process. @defaultValue true */
  startService?: boolean;
  /** The service's logger (e.g. a capture logger). @defaultValue a silent one */
  logger?: Logger;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const emulator = await startEmulator({
    port: 0,
    indexingDelayMs: 0,
    jobStartDelayMs: 0,
    ...options.emulator,
  });
  const prefix = testPrefix('ingest');
  const dir = await mkdtemp(join(tmpdir(), 'rfb-ingest-'));
  const workDir = join(dir, 'work');
  const env: Record<string, string> = {
    REDIS_URL: testRedisUrl(),
    RFBATCH_PREFIX: prefix,
    RFBATCH_WORK_DIR: workDir,
    ROBOFLOW_API_URL: emulator.url,
    ROBOFLOW_API_KEY: 'test-key',
    RFBATCH_RETRY_BASE_DELAY_MS: '20',
    LOG_LEVEL: 'silent',
    ...options.env,
  };
  const config = loadConfig(env);
  const logger = options.logger ?? createLogger({ level: config.logLevel, name: 'ingest-test' });
  const limiter = ingestRateLimiter();
  const context = createServiceContext(config, logger, {
    clientOptions: { onRateLimited: limiter.onRateLimited },
  });
  limiter.attach(context.queues);
  const service =
    options.startService === false
      ? undefined
      : await startIngest(context, { stalledIntervalMs: 2_000, ...options.ingest });

  let outputs = 0;
  const harness: Harness = {
    emulator,
    ctx: context,
    service,
    prefix,
    dir,
    workDir,
    env,
    spec: (source, extra = {}) => ({
      source,
      workflow: { workflowId: 'wf' },
      // A folder per spec: a run claims its output folder, and these runs stay live (no jobs service).
      output: { dir: join(dir, 'out', `o${outputs++}`) },
      ...extra,
    }),
    async submit(spec) {
      return (await submitRun(context.queues, context.store, spec)).runId;
    },
    async waitFor(runId, statuses, timeoutMs = 45_000) {
      let state: RunState | null = null;
      return waitFor(
        async () => {
          state = await context.store.get(runId);
          if (state && statuses.includes(state.status)) return state;
          if (state && state.status === 'failed' && !statuses.includes('failed')) {
            throw new Error(`run ${runId} failed: ${JSON.stringify(state.error)}`);
          }
          return undefined;
        },
        timeoutMs,
        () => `run ${runId} to reach ${statuses.join('/')} in ${timeoutMs} ms: ${JSON.stringify(state)}`,
        50,
      );
    },
    async manifest(runId) {
      const out: ManifestEntry[] = [];
      for await (const e of readJsonLines(runPaths(workDir, runId).manifest, ManifestEntry)) out.push(e);
      return out;
    },
    async batchNames(batchId) {
      const names: string[] = [];
      for await (const f of context.client.listFiles(batchId, { pageSize: 1000 })) names.push(f.fileName);
      return names;
    },
    async close() {
      await service?.close();
      await closeServiceContext(context);
      await emulator.close();
      await cleanupPrefix(prefix);
      await rm(dir, { recursive: true, force: true });
    },
  };
  return harness;
}
