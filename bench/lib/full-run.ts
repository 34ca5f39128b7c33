/**
 * One whole rfbatch run as production runs it: ingest, jobs and export (and, with webhooks, the
 * gateway) as separate processes on their own key prefix, from submit until the run is completed with
 * its joined results. What it measured: times, Redis commands and memory, each process's peak RSS.
 */
import { randomBytes } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, type RoboflowClient } from '@rfbatch/shared';
import { startService, until } from './proc.js';
import { round } from './stats.js';
import type { BenchStack } from './stack.js';

const seconds = (from: number) => (performance.now() - from) / 1000;

/** The remote job's own time on the emulator: created → its last stage's last event. */
export async function remoteJobSeconds(client: RoboflowClient, jobId: string): Promise<number> {
  const { job } = await client.getJob(jobId);
  const stages = await client.listStages(jobId);
  const end = Math.max(...stages.map((s) => Date.parse(s.lastEventTimestamp)));
  return (end - Date.parse(job!.createdAt)) / 1000;
}

export interface FullRunOptions {
  /** The source folder. */
  src: string;
  /** Results the run must join (one per source file). */
  expected: number;
  /** Names the prefix, run id and output folder. */
  label: string;
  webhooks: boolean;
  /** Extra environment of every service (poll intervals, concurrency). */
  env?: Record<string, string>;
  /** @defaultValue 30 min */
  timeoutMs?: number;
  /** Told every few seconds while the run goes on. */
  onProgress?: (line: string) => void;
}

export interface FullRun {
  total: number;
  remoteJob: number;
  stages: Record<string, number>;
  commands: number;
  scripts: number;
  topCommands: Record<string, number>;
  runKeysBytes: number;
  runKeys: number;
  usedPeakDelta: number;
  peakRssMb: Record<string, number>;
}

export async function fullRun(
  stack: BenchStack,
  client: RoboflowClient,
  options: FullRunOptions,
): Promise<FullRun> {
  const prefix = `b${options.label}`;
  const extra: Record<string, string> = { ...options.env };
  const gatewayPort = await freePort();
  if (options.webhooks) {
    Object.assign(extra, {
      RFBATCH_GATEWAY_HOST: '127.0.0.1',
      RFBATCH_GATEWAY_PORT: String(gatewayPort),
      RFBATCH_PUBLIC_URL: `http://127.0.0.1:${gatewayPort}`,
      RFBATCH_WEBHOOK_SECRET: randomBytes(16).toString('hex'),
    });
  }
  const procs = await stack.startServices(prefix, ['ingest', 'jobs', 'export'], extra);
  if (options.webhooks) {
    const gateway = startService('gateway', stack.serviceEnv('gateway', prefix, extra));
    procs.push(gateway);
    await until(
      'the gateway',
      async () =>
        (await fetch(`http://127.0.0.1:${gatewayPort}/healthz`)
          .then((r) => r.ok)
          .catch(() => false)) || undefined,
      60_000,
      100,
    );
  }
  const producer = stack.producer(prefix);
  const out = join(stack.workDir, 'out', `rf-${options.label}`);
  const before = await stack.probe.usedMemory();
  let peak = before;
  let lastSample = 0;
  let lastLine = 0;
  await stack.probe.resetStats();
  const t0 = performance.now();
  const runId = await producer.submit({
    runId: `run-${options.label}`,
    source: { kind: 'directory', path: options.src },
    workflow: { workflowId: 'bench-full-run' },
    output: { dir: out },
  });
  const state = await stack.waitForRun(prefix, runId, options.timeoutMs ?? 1_800_000, (s) => {
    if (Date.now() - lastSample < 500) return;
    lastSample = Date.now();
    void stack.probe.usedMemory().then((m) => (peak = Math.max(peak, m)));
    if (options.onProgress && Date.now() - lastLine > 15_000) {
      lastLine = Date.now();
      const rss = procs.map((p) => `${p.name} ${Math.round(p.peakRssMb())} MB`).join(', ');
      options.onProgress(`${s?.status ?? 'submitted'} after ${seconds(t0).toFixed(0)} s; peak RSS ${rss}`);
    }
  });
  const total = seconds(t0);
  const commands = await stack.probe.commands();
  if (state.status !== 'completed')
    throw new Error(`rfbatch run ${runId} ended ${state.status}: ${JSON.stringify(state.error)}`);
  const lines = (await readdir(out)).includes('results.jsonl');
  if (!lines || state.counters.results !== options.expected)
    throw new Error(`run ${runId} joined ${state.counters.results} results, not ${options.expected}`);
  const mem = await stack.probe.prefixMemory(prefix);
  const spec = await producer.store.spec(runId);
  const remoteJob = await remoteJobSeconds(client, spec.jobId);
  const stages: Record<string, number> = {};
  for (const [stage, timing] of Object.entries(state.timings)) {
    if (timing?.endedAt) stages[stage] = (Date.parse(timing.endedAt) - Date.parse(timing.startedAt)) / 1000;
  }
  const peakRssMb = Object.fromEntries(procs.map((p) => [p.name, round(p.peakRssMb(), 1)]));
  await Promise.all(procs.map((p) => p.stop('SIGTERM')));
  await producer.close();
  await stack.probe.dropPrefix(prefix);
  await rm(out, { recursive: true, force: true });
  await rm(join(stack.workDir, 'work', 'runs', runId), { recursive: true, force: true });
  const scripts = (commands.byCommand.evalsha ?? 0) + (commands.byCommand.eval ?? 0);
  return {
    total,
    remoteJob,
    stages,
    commands: commands.total,
    scripts,
    topCommands: Object.fromEntries(Object.entries(commands.byCommand).slice(0, 12)),
    runKeysBytes: mem.bytes,
    runKeys: mem.keys,
    usedPeakDelta: peak - before,
    peakRssMb,
  };
}
