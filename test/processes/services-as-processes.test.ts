/**
 * The deployment of docker-compose.yml without Docker: the commands and environment it gives each
 * service (read from the file), each as its own process — the emulator, the gateway, ingest × its
 * replicas, jobs and export — sharing one Redis and one work folder. Only what Docker provides is
 * swapped: host names and paths. A run submitted over HTTP completes; SIGTERM stops every process cleanly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pngBytes } from '@rfbatch/testkit/images';
import { badJsonLines } from '@rfbatch/testkit/json-lines';
import { cleanupPrefix, testPrefix, testRedisUrl } from '@rfbatch/testkit/redis';
import { writeTree } from '@rfbatch/testkit/source-tree';
import { freePort } from '@rfbatch/shared';
import { repoRoot, rfbatchBin } from '../cli/cli-harness.js';
import { interpolate, readCompose } from './compose-file.js';

interface Proc {
  name: string;
  child: ChildProcess;
  output: () => string;
  /** Everything it wrote on stderr (LOG_FORMAT=json, as compose sets: JSON lines only). */
  stderr: () => string;
  exited: Promise<number | string>;
}

const TOKEN = 'compose-test-token';
const prefix = testPrefix('procs');
const procs: Proc[] = [];
let workDir: string;
let gatewayUrl: string;
let env: Record<string, string>;

function start(name: string, args: string[], extraEnv: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, [rfbatchBin, ...args], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      ...env,
      ...extraEnv,
      // The source condition (vitest.config.ts: the bin runs the TypeScript, no build needed) and
      // what the compose file sets (ingest's --max-semi-space-size).
      NODE_OPTIONS: [process.env.NODE_OPTIONS, extraEnv.NODE_OPTIONS].filter(Boolean).join(' '),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdout?.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-20_000)));
  child.stderr?.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-20_000)));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  const proc = { name, child, output: () => output, stderr: () => stderr, exited };
  procs.push(proc);
  return proc;
}

/** Resolves with the first stdout line matching `re` (the process contract: URL on its first line). */
function firstLine(proc: Proc, re: RegExp, timeoutMs = 60_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(
      () =>
        reject(
          new Error(`${proc.name} printed nothing matching ${re} in ${timeoutMs} ms:\n${proc.output()}`),
        ),
      timeoutMs,
    );
    proc.child.stdout?.on('data', (c: Buffer) => {
      buffer += c.toString();
      const match = re.exec(buffer);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    });
    void proc.exited.then((code) =>
      reject(new Error(`${proc.name} exited (${code}) early:\n${proc.output()}`)),
    );
  });
}

async function api(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${gatewayUrl}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...init.headers },
  });
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${what}:\n${procs.map((p) => `--- ${p.name}\n${p.output().slice(-2_000)}`).join('\n')}`,
      );
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A compose service's environment with our values in place of Docker's host names and volumes. */
function serviceEnv(
  name: string,
  values: Record<string, string>,
  swaps: Record<string, string>,
): Record<string, string> {
  const declared = readCompose().services[name]?.environment ?? {};
  const out: Record<string, string> = {};
  for (const [key, raw] of Object.entries(declared)) {
    const value = swaps[key] ?? interpolate(String(raw), values);
    if (value !== '') out[key] = value;
  }
  return out;
}

/** A compose service's command with Docker-only values (host names, ports, paths) swapped. */
function serviceCommand(name: string, swaps: Record<string, string> = {}): string[] {
  const command = readCompose().services[name]?.command ?? [];
  return command.map((arg, i) => swaps[`${command[i - 1] ?? ''} ${arg}`] ?? arg);
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'rfb-procs-'));
  const port = await freePort();
  // What an operator would export before `docker compose up`.
  const values: Record<string, string> = {
    RFBATCH_PREFIX: prefix,
    ROBOFLOW_API_KEY: 'compose-key',
    RFBATCH_GATEWAY_TOKEN: TOKEN,
    RFBATCH_PUBLIC_URL: `http://127.0.0.1:${port}`,
    RFBATCH_WEBHOOK_SECRET: randomBytes(16).toString('hex'),
    LOG_LEVEL: 'info',
  };
  // What Docker provides: Redis and the emulator by host name, the shared volume by path.
  const swaps: Record<string, string> = {
    REDIS_URL: testRedisUrl(),
    RFBATCH_WORK_DIR: join(workDir, 'work'),
    // Every process on one host: each its own free port for /metrics and /healthz, on loopback.
    RFBATCH_METRICS_HOST: '127.0.0.1',
    RFBATCH_METRICS_PORT: '0',
  };
  // Test speed only: poll the remote side often.
  env = { RFBATCH_JOBS_POLL_MIN_MS: '200', RFBATCH_JOBS_POLL_MAX_MS: '1000' };

  const emulatorPort = String(await freePort());
  const emulator = start(
    'emulator',
    [
      ...serviceCommand('emulator', {
        '--host 0.0.0.0': '127.0.0.1',
        '--port 9000': emulatorPort,
        '--public-url http://emulator:9000': `http://127.0.0.1:${emulatorPort}`,
        '--data-dir /data/emulator': join(workDir, 'emulator'),
      }),
      '--indexing-delay-ms',
      '100',
      '--processing-ms-per-item',
      '5',
    ],
    serviceEnv('emulator', values, {}),
  );
  const [, emulatorUrl = ''] = await firstLine(emulator, /^emulator listening on (http:\/\/\S+)$/m);
  swaps.ROBOFLOW_API_URL = emulatorUrl;

  const compose = readCompose();
  for (const name of ['ingest', 'jobs', 'export']) {
    const replicas = compose.services[name]?.deploy?.replicas ?? 1;
    for (let i = 1; i <= replicas; i++)
      start(replicas > 1 ? `${name}-${i}` : name, serviceCommand(name), serviceEnv(name, values, swaps));
  }
  const gateway = start(
    'gateway',
    serviceCommand('gateway'),
    serviceEnv('gateway', values, {
      ...swaps,
      RFBATCH_GATEWAY_HOST: '127.0.0.1',
      RFBATCH_GATEWAY_PORT: String(port),
    }),
  );
  [, gatewayUrl = ''] = await firstLine(gateway, /^gateway listening on (http:\/\/\S+)$/m);
}, 120_000);

afterAll(async () => {
  for (const p of procs)
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
  await cleanupPrefix(prefix);
  await rm(workDir, { recursive: true, force: true });
});

describe('the services as separate processes', () => {
  it('report every worker in /healthz once they are up', async () => {
    const health = await until(
      'all workers in /healthz',
      async () => {
        const body = (await (await fetch(`${gatewayUrl}/healthz`)).json()) as {
          ok: boolean;
          workers: Record<string, { count: number }>;
        };
        const w = body.workers;
        return body.ok &&
          (w.ingest?.count ?? 0) >= 2 &&
          (w.runs?.count ?? 0) >= 2 &&
          (w.jobs?.count ?? 0) >= 1 &&
          (w.export?.count ?? 0) >= 1
          ? body
          : undefined;
      },
      90_000,
    );
    expect(health.workers.ingest?.count).toBe(2);
  }, 100_000);

  it('serve /metrics and /healthz of each worker process on its own port', async () => {
    for (const p of procs.filter((x) => /^(ingest|jobs|export)/.test(x.name))) {
      const url = await until(
        `${p.name}'s metrics URL`,
        async () =>
          /"url":"(http:\/\/127\.0\.0\.1:\d+)\/metrics","msg":"process metrics and health served"/.exec(
            p.stderr(),
          )?.[1],
        30_000,
      );
      const health = (await (await fetch(`${url}/healthz`)).json()) as {
        ok: boolean;
        pid: number;
        rssBytes: number;
        queues: Record<string, { running: boolean; activeJobs: number }>;
      };
      expect(health.ok, p.name).toBe(true);
      expect(health.pid).toBe(p.child.pid);
      expect(health.rssBytes).toBeGreaterThan(10_000_000);
      const queue = p.name.startsWith('ingest') ? 'ingest' : p.name;
      expect(health.queues[queue]).toMatchObject({ running: true, activeJobs: 0 });
      const text = await (await fetch(`${url}/metrics`)).text();
      expect(text).toMatch(/^rfbatch_process_resident_memory_bytes\{service="[a-z]+"\} [1-9]/m);
      expect(text).toMatch(/^rfbatch_nodejs_eventloop_lag_p99_seconds\{service="[a-z]+"\} /m);
      expect(text).toMatch(
        new RegExp(`^rfbatch_worker_active_jobs\\{queue="${queue}",service="[a-z]+"\\} 0$`, 'm'),
      );
    }
  }, 60_000);

  it('complete a run submitted to the gateway, with metrics from every process', async () => {
    const source = join(workDir, 'images');
    await writeTree(
      source,
      Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`p${i % 4}/img-${i}.png`, pngBytes(i)])),
    );
    const out = join(workDir, 'out');
    const submitted = await api('/runs', {
      method: 'POST',
      body: JSON.stringify({
        source: { kind: 'directory', path: source },
        workflow: { workflowId: 'wf-procs' },
        output: { dir: out },
      }),
    });
    expect(submitted.status).toBe(201);
    const { runId } = (await submitted.json()) as { runId: string };

    const view = await until(
      'the run to end',
      async () => {
        const body = (await (await api(`/runs/${runId}`)).json()) as { status: string; error?: unknown };
        return ['completed', 'failed', 'cancelled'].includes(body.status) ? body : undefined;
      },
      90_000,
    );
    expect(view.error).toBeUndefined();
    expect(view.status).toBe('completed');
    const lines = (await readFile(join(out, 'results.jsonl'), 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(60);

    // Each process flushes its counters about once a second.
    const metrics = await until(
      'the counters of every process',
      async () => {
        const text = await (await api('/metrics')).text();
        const recorded = [
          /rfbatch_api_requests_total\{endpoint="[^"]+",status="200"\} [1-9]/,
          /^rfbatch_bytes_uploaded_total [1-9]/m,
          /^rfbatch_bytes_downloaded_total [1-9]/m,
          /^rfbatch_runs_total\{outcome="completed"\} 1$/m,
        ];
        return recorded.every((re) => re.test(text)) ? text : undefined;
      },
      10_000,
    );
    expect(metrics).toMatch(/bullmq_job_count\{queue="export",state="completed",prefix="[^"]+"\} [1-9]/);
    expect(metrics).toMatch(/rfbatch_job_duration_seconds_count\{queue="ingest",job="plan"\} 1/);
    expect(metrics).toMatch(/rfbatch_job_duration_seconds_bucket\{queue="ingest",job="plan",le="\+Inf"\} 1/);
    expect(metrics).toMatch(/rfbatch_stage_duration_seconds_bucket\{stage="plan",le="\+Inf"\} 1/);
  }, 100_000);

  it('stop cleanly on SIGTERM (exit code 0)', async () => {
    for (const p of procs) p.child.kill('SIGTERM');
    const codes = await Promise.all(procs.map(async (p) => [p.name, await p.exited] as const));
    expect(Object.fromEntries(codes)).toEqual(Object.fromEntries(procs.map((p) => [p.name, 0])));
  }, 60_000);

  it('wrote only JSON lines with unique keys on stderr, start to stop (LOG_FORMAT=json)', () => {
    for (const p of procs) {
      if (p.name !== 'emulator') expect(p.stderr(), `${p.name} logged nothing`).not.toBe('');
      expect(badJsonLines(p.stderr()), p.name).toEqual([]);
    }
    // The CLI's own notes too (`workers … running (pid …)`), as JSON lines.
    const ingest = procs.find((p) => p.name.startsWith('ingest'))?.stderr() ?? '';
    expect(ingest).toMatch(/^\{.*"msg":"workers ingest running \(pid \d+/m);
    expect(ingest).toMatch(/"bullJobId":"/);
  });
});
