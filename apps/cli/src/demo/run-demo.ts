import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { startEmulator } from '@rfbatch/emulator';
import { startGateway, type RunningGateway } from '@rfbatch/gateway';
import {
  deletePrefix,
  freePort,
  loadConfig,
  newRunId,
  redactUrl,
  redisForDemo,
  type RedisHandle,
} from '@rfbatch/shared';
import { cliLogger, openServices, type ServicesHandle } from '../cli-context.js';
import { followRun, reportOutcome, stderrRenderer } from '../follow.js';
import { note, printLine, type CliIO } from '../io.js';
import { formatBytes, formatDuration } from '../render/format.js';
import { startWorkers, type RunningWorkers } from '../workers.js';
import { generateSampleImages } from './sample-images.js';
import { submitRun } from '@rfbatch/run-control';

export interface DemoOptions {
  /** Folder for the sample images, results and work files. @defaultValue `<cwd>/.rfbatch/demo` */
  dir?: string;
  /** Sample images to generate. @defaultValue 200 */
  images?: number;
  /** Keep the gateway (Bull Board) open after the run until Ctrl-C. @defaultValue false */
  keep?: boolean;
  verbose?: boolean;
}

export interface DemoResult {
  runId: string;
  /** The Redis prefix the demo used (its keys are removed when the demo ends). */
  prefix: string;
  status: string;
  resultsDir: string;
  boardUrl: string;
  wallMs: number;
}

/**
 * The embedded default, end to end in one process: sample images → local emulator → Redis (found or
 * started) → every worker service and the gateway → one run with live progress → summary, results
 * and the Bull Board URL. Uses its own Redis prefix and removes its keys afterwards.
 */
export async function runDemo(io: CliIO, options: DemoOptions = {}): Promise<DemoResult> {
  const started = Date.now();
  const dir = resolve(io.cwd, options.dir ?? '.rfbatch/demo');
  const sample = await generateSampleImages(join(dir, 'sample'), options.images ?? 200);
  note(
    io,
    `sample: ${sample.files} images (${sample.png} PNG, ${sample.jpeg} JPEG, ${formatBytes(sample.bytes)}) in ${sample.dir}`,
  );

  let redis: RedisHandle | undefined;
  let emulator: Awaited<ReturnType<typeof startEmulator>> | undefined;
  let services: ServicesHandle | undefined;
  let workers: RunningWorkers | undefined;
  let gateway: RunningGateway | undefined;
  let prefix: string | undefined;
  try {
    redis = await redisForDemo(io.env);
    const origin = {
      env: 'REDIS_URL',
      local: 'the local server',
      spawned: 'a private redis-server',
      container: 'a container',
    }[redis.origin];
    note(io, `redis: ${redactUrl(redis.url)} (${origin})`);

    emulator = await startEmulator({
      workspace: 'demo',
      indexingDelayMs: 300,
      processingMsPerItem: 2,
      jobStartDelayMs: 100,
    });
    note(io, `emulator: ${emulator.url} (a local Roboflow Batch Processing API)`);

    const port = await freePort();
    prefix = `rfbatch-demo-${randomBytes(3).toString('hex')}`;
    const config = loadConfig({
      ...io.env,
      REDIS_URL: redis.url,
      RFBATCH_PREFIX: prefix,
      ROBOFLOW_API_URL: emulator.url,
      ROBOFLOW_API_KEY: 'rfbatch-demo-key',
      ROBOFLOW_WORKSPACE: emulator.workspace,
      RFBATCH_WORK_DIR: join(dir, 'work'),
      RFBATCH_GATEWAY_HOST: '127.0.0.1',
      RFBATCH_GATEWAY_PORT: String(port),
      // The emulator calls the gateway back when the job ends (the webhook fast path).
      RFBATCH_PUBLIC_URL: `http://127.0.0.1:${port}`,
      RFBATCH_WEBHOOK_SECRET: randomBytes(16).toString('hex'),
      RFBATCH_GATEWAY_TOKEN: undefined,
      RFBATCH_GATEWAY_ADMIN_TOKEN: undefined,
    });
    services = await openServices(config, cliLogger(io, options.verbose === true));
    workers = await startWorkers(services.ctx, {
      env: io.env,
      rateLimitListeners: services.rateLimitListeners,
      serviceOptions: { jobs: { pollMinMs: 500, pollMaxMs: 2_000 } },
    });
    gateway = await startGateway(services.ctx, { port });
    const boardUrl = `${gateway.url}/board`;
    note(io, `gateway: ${gateway.url} · Bull Board: ${boardUrl}`);

    const runId = newRunId();
    const resultsDir = join(dir, 'results', runId);
    const { store, queues } = services.ctx;
    await submitRun(queues, store, {
      runId,
      source: { kind: 'directory', path: sample.dir },
      workflow: { workflowId: 'demo-detector', aggregationFormat: 'jsonl' },
      output: { dir: resultsDir },
    });
    note(io, `run ${runId}: ${sample.files} images through plan → upload → index → job → download\n`);

    const { state, detached } = await followRun(store, runId, {
      renderer: stderrRenderer(io),
      signal: io.signal,
    });
    if (detached) {
      note(io, `stopped before the end (run ${runId} was ${state.status})`);
      return { runId, prefix, status: state.status, resultsDir, boardUrl, wallMs: Date.now() - started };
    }
    printLine(io);
    await reportOutcome(io, store, state, { json: false });
    const first = (await readFile(join(resultsDir, 'results.jsonl'), 'utf8').catch(() => '')).split('\n')[0];
    if (first) printLine(io, `  first result  ${first.length > 160 ? `${first.slice(0, 157)}...` : first}`);
    printLine(io, `  report (web)  ${gateway.url}/runs/${runId}/report`);
    printLine(
      io,
      `  Bull Board    ${boardUrl}${options.keep ? '' : '  (open while the demo runs; `npm run demo -- --keep` keeps it open)'}`,
    );
    const wallMs = Date.now() - started;
    printLine(io, `  wall time     ${formatDuration(wallMs)} (${wallMs} ms)`);

    if (options.keep) {
      note(io, `\nthe gateway stays up: ${boardUrl} · ${gateway.url}/metrics · Ctrl-C to stop`);
      await new Promise<void>((done) =>
        io.signal.aborted ? done() : io.signal.addEventListener('abort', () => done(), { once: true }),
      );
    }
    return { runId, prefix, status: state.status, resultsDir, boardUrl, wallMs };
  } finally {
    await gateway?.close();
    await workers?.close();
    // With --keep the user was looking at the board until Ctrl-C; either way nothing stays behind.
    if (services && prefix) {
      await services.metrics.close();
      // The demo's own prefix: a shared local Redis keeps nothing from it.
      await deletePrefix(services.ctx.connection, prefix).catch(() => undefined);
    }
    await services?.close();
    await emulator?.close();
    await redis?.stop();
  }
}
