/**
 * Secrets stay secret. After full runs — one through the gateway (the services and the gateway as
 * separate processes, debug logs on, some uploads cut off and one run refused at export so errors are
 * recorded) and one with `rfbatch run --local` — nothing holds the API key, the gateway token, the
 * webhook path secret or any signed-URL signature the API handed out:
 *  - no Redis key or value, of any type (a private Redis: every key is scanned);
 *  - no log line of any process, nor anything the CLI printed;
 *  - no answer of the Bull Board API (queues × statuses, every job, its logs and flow) or of the gateway;
 *  - no file in the output and work folders.
 * The signatures are the real ones: a recording proxy between rfbatch and the emulator collects every
 * `X-Goog-Signature` the API answered with. A planted secret proves the scanner finds what it looks for.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '@rfbatch/emulator';
import { pngBytes } from '@rfbatch/testkit/images';
import { writeTree } from '@rfbatch/testkit/source-tree';
import { freePort, QUEUE_NAMES, spawnRedis } from '@rfbatch/shared';
import { cli, repoRoot } from '../cli/cli-harness.js';

const hex = () => randomBytes(8).toString('hex');
const API_KEY = `rf-secret-key-XYZ-${hex()}`;
const GATEWAY_TOKEN = `gw-secret-token-${hex()}`;
const WEBHOOK_SECRET = `webhook-path-secret-${hex()}`;

let redis: Awaited<ReturnType<typeof spawnRedis>>;
let emulator: Emulator;
let proxy: { url: string; server: Server; signatures: Set<string> };
let dir: string;
const procs: { name: string; child: ChildProcess; output: () => string }[] = [];
/** Everything shown to someone: text, and where it came from. */
const shown: { where: string; text: string }[] = [];

/** Forwards to the emulator and collects every signature in the API's answers. */
async function recordingProxy(upstream: string): Promise<typeof proxy> {
  const signatures = new Set<string>();
  const server = createServer((req, res) => {
    const target = new URL(req.url ?? '/', upstream);
    const up = httpRequest(
      target,
      { method: req.method, headers: { ...req.headers, host: target.host } },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        const chunks: Buffer[] = [];
        upRes.on('data', (c: Buffer) => {
          chunks.push(c);
          res.write(c);
        });
        upRes.on('end', () => {
          res.end();
          for (const m of Buffer.concat(chunks)
            .toString('utf8')
            .matchAll(/X-Goog-Signature=([0-9A-Za-z%]{16,})/g))
            signatures.add(decodeURIComponent(m[1]!));
        });
        upRes.on('error', () => res.destroy());
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server, signatures };
}

function startProcess(name: string, script: string, env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, script)], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  procs.push({ name, child, output: () => output });
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 180_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${what}:\n${procs.map((p) => `--- ${p.name}\n${p.output().slice(-1500)}`).join('\n')}`,
      );
    await new Promise((r) => setTimeout(r, 200));
  }
}

let gateway: string;
async function api(path: string, init: RequestInit = {}): Promise<{ status: number; text: string }> {
  const res = await fetch(`${gateway}${path}`, {
    ...init,
    headers: {
      authorization: `Bearer ${GATEWAY_TOKEN}`,
      'content-type': 'application/json',
      ...init.headers,
    },
  });
  const text = await res.text();
  shown.push({ where: `gateway ${init.method ?? 'GET'} ${path}`, text });
  return { status: res.status, text };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rfb-secrets-'));
  redis = await spawnRedis();
  emulator = await startEmulator({
    apiKeys: [API_KEY],
    indexingDelayMs: 20,
    processingMsPerItem: 0,
    jobStartDelayMs: 20,
    webhookRetryBaseMs: 50,
  });
  proxy = await recordingProxy(emulator.url);
  const port = await freePort();
  gateway = `http://127.0.0.1:${port}`;
  const env = {
    REDIS_URL: redis.url,
    RFBATCH_PREFIX: 'sec-gw',
    RFBATCH_WORK_DIR: join(dir, 'gw-work'),
    ROBOFLOW_API_URL: proxy.url,
    ROBOFLOW_API_KEY: API_KEY,
    LOG_LEVEL: 'trace',
    RFBATCH_GATEWAY_TOKEN: GATEWAY_TOKEN,
    RFBATCH_GATEWAY_HOST: '127.0.0.1',
    RFBATCH_GATEWAY_PORT: String(port),
    RFBATCH_PUBLIC_URL: gateway,
    RFBATCH_WEBHOOK_SECRET: WEBHOOK_SECRET,
    RFBATCH_POLL_MIN_MS: '200',
    RFBATCH_POLL_MAX_MS: '1000',
    RFBATCH_RETRY_BASE_DELAY_MS: '50',
  };
  for (const s of ['ingest', 'jobs', 'export', 'gateway']) startProcess(s, `services/${s}/src/main.ts`, env);
  await until('the gateway', async () => ((await fetch(`${gateway}/healthz`)).ok ? true : undefined));
}, 120_000);

afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  proxy?.server.close();
  await emulator?.close();
  await redis?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Where each secret shows up in `text` (labels only: a finding never repeats the secret). */
function findIn(text: string | Buffer, secrets: Map<string, string>): string[] {
  const hay = typeof text === 'string' ? text : text.toString('latin1');
  const found: string[] = [];
  for (const [label, secret] of secrets) if (hay.includes(secret)) found.push(label);
  if (/X-Goog-(Signature|Credential)=/i.test(hay)) found.push('a signed-URL query string');
  return found;
}

async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** Every key of the (private) Redis with its value, whatever the type. */
async function redisDump(): Promise<{ where: string; text: string }[]> {
  const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  const out: { where: string; text: string }[] = [];
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const type = await client.type(key);
        let value: unknown;
        if (type === 'string') value = await client.getBuffer(key).then((b) => b?.toString('latin1'));
        else if (type === 'hash') value = await client.hgetall(key);
        else if (type === 'list') value = await client.lrange(key, 0, -1);
        else if (type === 'set') value = await client.smembers(key);
        else if (type === 'zset') value = await client.zrange(key, 0, -1, 'WITHSCORES');
        else if (type === 'stream') value = await client.xrange(key, '-', '+');
        else value = `(${type})`;
        out.push({ where: `redis ${type} ${key}`, text: `${key}\n${JSON.stringify(value)}` });
      }
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
  return out;
}

describe('secrets', () => {
  it('appear nowhere after full runs through the gateway and the CLI', async () => {
    // --- A run through the gateway, with uploads and downloads cut off now and then (errors get recorded).
    const source = join(dir, 'images');
    await writeTree(
      source,
      Object.fromEntries(
        Array.from({ length: 80 }, (_, i) => [`set-${i % 3}/img-${i}.png`, pngBytes(`secret-${i}`)]),
      ),
    );
    emulator.setFaults({ seed: 5, pathPrefix: '/_storage/', resetRate: 0.15 });
    const submitted = await api('/runs', {
      method: 'POST',
      body: JSON.stringify({
        runId: 'sec-gw-run',
        source: { kind: 'directory', path: source },
        workflow: { workflowId: 'wf-secret' },
        upload: { shardMaxImages: 20 },
        output: { dir: join(dir, 'gw-out', 'run') },
      }),
    });
    expect(submitted.status).toBe(201);
    const done = await until('the gateway run', async () => {
      const view = JSON.parse((await api('/runs/sec-gw-run')).text) as { status: string };
      return ['completed', 'failed', 'cancelled'].includes(view.status) ? view : undefined;
    });
    expect(done.status).toBe('completed');
    emulator.setFaults({ resetRate: 0, pathPrefix: '' });

    // --- A run that is refused at export (a hostile archive): its error is in the run and in BullMQ.
    await writeTree(join(dir, 'few'), { 'a.png': pngBytes('a'), 'b.png': pngBytes('b') });
    emulator.setFaults({ maliciousExport: 'traversal' });
    await api('/runs', {
      method: 'POST',
      body: JSON.stringify({
        runId: 'sec-gw-bad',
        source: { kind: 'directory', path: join(dir, 'few') },
        workflow: { workflowId: 'wf-secret' },
        output: { dir: join(dir, 'gw-out', 'bad') },
      }),
    });
    const bad = await until('the refused run', async () => {
      const view = JSON.parse((await api('/runs/sec-gw-bad')).text) as { status: string };
      return ['completed', 'failed', 'cancelled'].includes(view.status) ? view : undefined;
    });
    emulator.setFaults({ maliciousExport: null });
    expect(bad.status).toBe('failed');
    await api('/runs');
    await api('/metrics');
    await api('/healthz');

    // --- Bull Board's API: every queue in every status, every job with its logs and flow.
    const board = (path: string) => api(`/board/api${path}`);
    const queuesAnswer = await board('/queues');
    expect(queuesAnswer.status).toBe(200);
    await board('/redis/stats');
    const statuses = [
      'latest',
      'active',
      'waiting',
      'waiting-children',
      'prioritized',
      'completed',
      'failed',
      'delayed',
      'paused',
    ];
    const jobIds = new Map<string, Set<string>>();
    for (const q of QUEUE_NAMES) {
      for (const status of statuses) {
        const res = await board(`/queues?activeQueue=${q}&status=${status}&page=1&jobsPerPage=1000`);
        const body = JSON.parse(res.text) as { queues: { name: string; jobs: { id: string }[] }[] };
        for (const queue of body.queues)
          for (const job of queue.jobs)
            (jobIds.get(queue.name) ?? jobIds.set(queue.name, new Set()).get(queue.name)!).add(job.id);
      }
    }
    let boardJobs = 0;
    for (const [q, ids] of jobIds) {
      for (const id of ids) {
        boardJobs++;
        await board(`/queues/${encodeURIComponent(q)}/${encodeURIComponent(id)}`);
        await board(`/queues/${encodeURIComponent(q)}/${encodeURIComponent(id)}/logs`);
        await board(`/queues/${encodeURIComponent(q)}/${encodeURIComponent(id)}/flow`);
      }
    }

    // --- A run with the CLI, all workers in its process, debug logs as JSON; then the read commands.
    const cliEnv = {
      REDIS_URL: redis.url,
      RFBATCH_PREFIX: 'sec-cli',
      RFBATCH_WORK_DIR: join(dir, 'cli-work'),
      ROBOFLOW_API_URL: proxy.url,
      ROBOFLOW_API_KEY: API_KEY,
      LOG_LEVEL: 'trace',
      LOG_FORMAT: 'json',
    };
    const commands = [
      [
        'run',
        source,
        '--workflow',
        'wf-cli',
        '--local',
        '--run-id',
        'sec-cli-run',
        '--out',
        join(dir, 'cli-out'),
        '--json',
      ],
      ['status', 'sec-cli-run', '--json'],
      ['status', 'sec-cli-run'],
      ['ls'],
      ['jobs', 'ls'],
      ['batches', 'ls'],
      ['jobs', 'show', 'no-such-job', '--verbose'],
    ];
    for (const args of commands) {
      const res = await cli(args, cliEnv);
      shown.push({
        where: `rfbatch ${args.join(' ')} (exit ${res.code})`,
        text: `${res.stdout}\n${res.stderr}`,
      });
      if (args[0] === 'run') expect(res.code, res.stderr).toBe(0);
    }

    // --- Collect everything and look.
    for (const p of procs) shown.push({ where: `log of ${p.name}`, text: p.output() });
    const dump = await redisDump();
    const files = [
      ...(await filesUnder(join(dir, 'gw-work'))),
      ...(await filesUnder(join(dir, 'gw-out'))),
      ...(await filesUnder(join(dir, 'cli-work'))),
      ...(await filesUnder(join(dir, 'cli-out'))),
    ];
    const secrets = new Map<string, string>([
      ['the API key', API_KEY],
      ['the gateway token', GATEWAY_TOKEN],
      ['the webhook secret', WEBHOOK_SECRET],
      ...[...proxy.signatures].map((s, i) => [`signed-URL signature #${i + 1}`, s] as [string, string]),
    ]);

    // The scan covered real material, and finds a planted secret.
    expect(proxy.signatures.size).toBeGreaterThanOrEqual(10);
    expect(dump.length).toBeGreaterThan(20);
    expect(boardJobs).toBeGreaterThan(10);
    expect(files.length).toBeGreaterThan(10);
    const logLines = procs.reduce((n, p) => n + p.output().split('\n').length, 0);
    expect(logLines).toBeGreaterThan(50);
    expect(findIn(`x${API_KEY}x ${[...proxy.signatures][0]}`, secrets)).toEqual([
      'the API key',
      'signed-URL signature #1',
    ]);

    const findings: string[] = [];
    for (const { where, text } of [...shown, ...dump])
      for (const f of findIn(text, secrets)) findings.push(`${f} in ${where}`);
    for (const file of files)
      for (const f of findIn(await readFile(file), secrets)) findings.push(`${f} in file ${file}`);
    expect(findings).toEqual([]);
  }, 420_000);
});
