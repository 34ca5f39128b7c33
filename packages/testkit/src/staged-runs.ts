/**
 * A testbed for the jobs and export services: a real emulator, a real client and a private Redis
 * prefix, plus runs staged straight in the emulator (single uploads or tar shards) without the
 * ingest service.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { startEmulator, type Emulator, type EmulatorOptions } from '@rfbatch/emulator';
import {
  closeServiceContext,
  createLogger,
  createServiceContext,
  enqueue,
  loadConfig,
  resolveRunSpec,
  RunSpecSchema,
  runPaths,
  stageJobId,
  TERMINAL_STATUSES,
  uploadToSignedUrl,
  type ManifestEntry,
  type ResolvedRunSpec,
  type RunningService,
  type RunSpecInput,
  type RunState,
  type RunStatus,
  type ServiceContext,
} from '@rfbatch/shared';
import { pngBytes } from './images.js';
import { cleanupPrefix, testPrefix, testRedisUrl } from './redis.js';
import { makeTar } from './tars.js';
import { waitFor } from './wait-for.js';

/** The 4×4 PNG staged as image `i` of a run. */
const stagedImage = (i: number) => pngBytes(i, 0, 4);

export interface TestbedOptions {
  emulator?: EmulatorOptions;
  /** Extra environment for loadConfig (e.g. RFBATCH_PUBLIC_URL). */
  env?: Record<string, string>;
}

export interface StagedRun {
  spec: ResolvedRunSpec;
  names: string[];
}

export interface Testbed {
  emulator: Emulator;
  ctx: ServiceContext;
  prefix: string;
  workDir: string;
  outDir: string;
  services: RunningService[];
  /**
   * Stages `n` images (`img-<i>.png`) in the run's batch — by single uploads or as one tar shard per
   * 500 — writes the run's manifest, records the run with `expected = n` and puts it on `verify`.
   */
  stageRun(
    n: number,
    options?: {
      mode?: 'single' | 'shards';
      shardSize?: number;
      spec?: Partial<RunSpecInput>;
      runId?: string;
      enqueue?: boolean;
      /** File names `<namePrefix><i>.png`. @defaultValue 'img-' */
      namePrefix?: string;
    },
  ): Promise<StagedRun>;
  waitFor(runId: string, statuses: RunStatus[], timeoutMs?: number): Promise<RunState>;
  close(): Promise<void>;
}

let runCounter = 0;

export async function startTestbed(options: TestbedOptions = {}): Promise<Testbed> {
  const emulator = await startEmulator({
    port: 0,
    indexingDelayMs: 20,
    processingMsPerItem: 0,
    webhooks: false,
    jobStartDelayMs: 20,
    ...options.emulator,
  });
  const prefix = testPrefix('svc');
  const workDir = await mkdtemp(join(tmpdir(), 'rfb-work-'));
  const outDir = await mkdtemp(join(tmpdir(), 'rfb-out-'));
  const config = loadConfig({
    ROBOFLOW_API_KEY: 'test-api-key-1234',
    ROBOFLOW_API_URL: emulator.url,
    REDIS_URL: testRedisUrl(),
    RFBATCH_PREFIX: prefix,
    RFBATCH_WORK_DIR: workDir,
    LOG_LEVEL: 'silent',
    RFBATCH_RETRY_BASE_DELAY_MS: '20',
    ...options.env,
  });
  const logger = createLogger({ level: process.env.RFBATCH_TEST_LOG ?? 'silent' });
  const ctx = createServiceContext(config, logger);
  const services: RunningService[] = [];

  const stageRun: Testbed['stageRun'] = async (n, opts = {}) => {
    const runId = opts.runId ?? `r${Date.now().toString(36)}-${runCounter++}`;
    const spec = resolveRunSpec(
      RunSpecSchema.parse({
        runId,
        source: { kind: 'directory', path: join(workDir, 'src') },
        workflow: { workflowId: 'wf-test' },
        output: { dir: join(outDir, runId) },
        ...opts.spec,
      }),
    );
    const names = Array.from({ length: n }, (_, i) => `${opts.namePrefix ?? 'img-'}${i}.png`);
    const mode = opts.mode ?? (n > 32 ? 'shards' : 'single');
    if (mode === 'single') {
      for (const [i, name] of names.entries()) {
        const body = stagedImage(i);
        await ctx.client.uploadImage(spec.batchId, name, {
          stream: () => Readable.from(body),
          size: body.length,
        });
      }
    } else {
      const size = opts.shardSize ?? 500;
      for (let s = 0; s < n; s += size) {
        const tar = await makeTar(
          names.slice(s, s + size).map((name, k) => ({ name, data: stagedImage(s + k) })),
        );
        const details = await ctx.client.requestShardUploadUrl(spec.batchId);
        await uploadToSignedUrl(details, Readable.from(tar), tar.length);
      }
    }
    const paths = runPaths(workDir, runId);
    await mkdir(paths.dir, { recursive: true });
    const manifest: ManifestEntry[] = names.map((name, i) => ({
      i,
      source: `photos/${name}`,
      name,
      kind: 'image',
      unit: Math.floor(i / 500),
    }));
    await writeFile(paths.manifest, manifest.map((m) => `${JSON.stringify(m)}\n`).join(''));
    await ctx.store.create(spec);
    await ctx.store.setUploadMode(runId, mode === 'single' ? 'single' : 'shards');
    await ctx.store.setCounters(runId, { sourceFiles: n, planned: n, expected: n });
    await ctx.store.setStatus(runId, 'verifying');
    if (opts.enqueue !== false)
      await enqueue(
        ctx.queues,
        'jobs',
        'verify',
        { runId, attempt: 0 },
        { jobId: stageJobId('verify', runId) },
      );
    return { spec, names };
  };

  const waitForRun: Testbed['waitFor'] = (runId, statuses, timeoutMs = 30_000) => {
    let state: RunState | undefined;
    const notReached = () =>
      `run ${runId} is ${state?.status} (waited for ${statuses.join('|')}): ${JSON.stringify(state?.error ?? state?.warnings)}`;
    return waitFor(
      async () => {
        state = await ctx.store.require(runId);
        if (statuses.includes(state.status)) return state;
        if (TERMINAL_STATUSES.includes(state.status)) throw new Error(notReached());
        return undefined;
      },
      timeoutMs,
      notReached,
    );
  };

  return {
    emulator,
    ctx,
    prefix,
    workDir,
    outDir,
    services,
    stageRun,
    waitFor: waitForRun,
    async close() {
      for (const s of services.splice(0)) await s.close();
      await closeServiceContext(ctx);
      await emulator.close();
      await cleanupPrefix(prefix);
      await rm(workDir, { recursive: true, force: true });
      await rm(outDir, { recursive: true, force: true });
    },
  };
}
