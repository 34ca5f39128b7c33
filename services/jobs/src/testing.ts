/**
 * Test support for the jobs and export services: a real emulator, a real client and a private Redis
 * prefix, plus ways to stage items and create runs without the ingest service. Import from
 * '@rfbatch/jobs/testing' (tests only).
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pack } from 'tar-stream';
import { startEmulator, type Emulator, type EmulatorOptions } from '@rfbatch/emulator';
import {
  closeServiceContext,
  createLogger,
  createServiceContext,
  encodePng,
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
import { cleanupPrefix, testPrefix, testRedisUrl } from '@rfbatch/shared/testing';

/** A valid 4×4 PNG whose pixels derive from `seed` (so every image differs). */
export function tinyPng(seed: number): Buffer {
  const rgb = new Uint8Array(4 * 4 * 3).fill(seed % 256);
  Buffer.from(rgb.buffer).writeUInt32BE(seed >>> 0, 0);
  return encodePng(4, 4, rgb);
}

async function tarOf(files: { name: string; body: Buffer }[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => chunks.push(c as Buffer));
  const ended = new Promise<void>((r) => p.on('end', () => r()));
  for (const f of files)
    await new Promise<void>((res, rej) =>
      p.entry({ name: f.name, size: f.body.length }, f.body, (e) => (e ? rej(e) : res())),
    );
  p.finalize();
  await ended;
  return Buffer.concat(chunks);
}

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
    const names = Array.from({ length: n }, (_, i) => `img-${i}.png`);
    const mode = opts.mode ?? (n > 32 ? 'shards' : 'single');
    if (mode === 'single') {
      for (const [i, name] of names.entries()) {
        const body = tinyPng(i);
        await ctx.client.uploadImage(spec.batchId, name, {
          stream: () => Readable.from(body),
          size: body.length,
        });
      }
    } else {
      const size = opts.shardSize ?? 500;
      for (let s = 0; s < n; s += size) {
        const tar = await tarOf(names.slice(s, s + size).map((name, k) => ({ name, body: tinyPng(s + k) })));
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

  const waitFor: Testbed['waitFor'] = async (runId, statuses, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const state = await ctx.store.require(runId);
      if (statuses.includes(state.status)) return state;
      if (TERMINAL_STATUSES.includes(state.status) || Date.now() > deadline) {
        throw new Error(
          `run ${runId} is ${state.status} (waited for ${statuses.join('|')}): ${JSON.stringify(state.error ?? state.warnings)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  return {
    emulator,
    ctx,
    prefix,
    workDir,
    outDir,
    services,
    stageRun,
    waitFor,
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
