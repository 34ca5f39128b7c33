/**
 * Bucket credentials and presigned URLs stay secret (issue 12). Runs on bucket sources, through the
 * gateway with the ingest, jobs, export and gateway services as separate processes (trace logs, each
 * on its own work dir, the work store in a bucket: RFBATCH_WORK_URL), and with `rfbatch run --local`:
 *  - s3:// (s3rver, accepting only a random key pair of ours) in `references` mode (the first
 *    references requests answer 503, so retries are logged) and in `stream` mode, to an s3:// output;
 *  - az:// (azurite, which checks the SAS signatures the emulator's fetches present) in `references`
 *    mode, to an az:// output container;
 *  - a run on a bucket that does not exist (its error is recorded in the run and in BullMQ);
 *  - with the CLI: s3:// references to s3://, and with an Azure SAS token as the only credential a
 *    stream run to az://, a missing container, a references run (refused) and a dry run.
 * Afterwards nothing holds the AWS secret access key or access key id (given through the environment
 * only, as a user would), Azure's account key or SAS signature, the API key, the gateway token, the
 * webhook secret, any presigned-URL query string (`X-Amz-Signature=`, `X-Amz-Credential=`, a SAS
 * `sig=`) or any signature value the emulator actually received in a references request (its request
 * log):
 *  - no Redis key or value of any type (a private Redis, every key: run state, BullMQ job data, return
 *    values, failed reasons, stack traces, job logs if any, event streams);
 *  - no log line of any process, nor anything the CLI printed;
 *  - no answer of the Bull Board API (queues × statuses, every job, its logs and flow) or the gateway;
 *  - no object in the output and work buckets (results.jsonl, summary.json, extracted outputs, plans,
 *    manifests), nor any file in the processes' local work folders.
 * The scan is checked on real material (counts of URLs, keys, jobs, objects, log lines), and finds a
 * real received presigned URL, its signature alone and a key planted in a string. A mutation (the
 * references processor returning and printing its first URL) made this test fail in Redis (job return
 * values, events), the services' logs and the CLI's output; the logger's own redaction hides a URL
 * passed to it, which is why the mutation had to bypass it.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '@rfbatch/emulator';
import { forgetObjectStores, openObjectStore, type ObjectStore } from '@rfbatch/object-store';
import { pngBytes } from '@rfbatch/testkit/images';
import { startAzurite, startS3Server, type ObjectServer } from '@rfbatch/testkit/object-servers';
import { eachLimited, freePort, QUEUE_NAMES, spawnRedis } from '@rfbatch/shared';
import { cliProcess, repoRoot } from '../cli/cli-harness.js';

const hex = () => randomBytes(8).toString('hex');
const API_KEY = `rf-bucket-secret-key-${hex()}`;
const GATEWAY_TOKEN = `gw-bucket-secret-token-${hex()}`;
const WEBHOOK_SECRET = `webhook-bucket-secret-${hex()}`;
/** The only key pair our s3rver accepts (its built-in one is revoked): finding them anywhere is a leak. */
const AWS_ACCESS_KEY_ID = `AKIARFB${hex().toUpperCase()}`;
const AWS_SECRET_ACCESS_KEY = `aws-secret-${hex()}${hex()}`;
const N = 36;

let redis: Awaited<ReturnType<typeof spawnRedis>>;
let emulator: Emulator;
let s3: ObjectServer;
let azure: ObjectServer;
let dir: string;
let gateway: string;
/** What the services and the CLI get: the SDKs' standard variables, as a user would set them. */
let storageEnv: Record<string, string>;
let AZURE_KEY: string;
/** An account SAS for azurite (read, write, list…): the credential of the CLI's SAS runs. */
let sasToken: string;
const saved = { ...process.env };
const procs: { name: string; child: ChildProcess; output: () => string }[] = [];
/** Everything shown to someone: text, and where it came from. */
const shown: { where: string; text: string }[] = [];

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

interface RunView {
  status: string;
  error?: unknown;
}

async function submitAndWait(runId: string, spec: Record<string, unknown>): Promise<RunView> {
  const submitted = await api('/runs', {
    method: 'POST',
    body: JSON.stringify({ runId, workflow: { workflowId: 'wf-bucket-secret' }, ...spec }),
  });
  expect(submitted.status, submitted.text).toBe(201);
  return until(`run ${runId}`, async () => {
    const view = JSON.parse((await api(`/runs/${runId}`)).text) as RunView;
    return ['completed', 'failed', 'cancelled'].includes(view.status) ? view : undefined;
  });
}

function objectTree(n: number): Record<string, Buffer> {
  const objects: Record<string, Buffer> = {};
  for (let i = 0; i < n; i++)
    objects[`photos/${i % 2 ? 'day' : 'night'}/cam-${i % 3}/img-${Math.floor(i / 6)}.png`] = pngBytes(
      `bucket-secret-${i}`,
    );
  return objects;
}

async function bytesOf(store: ObjectStore, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await store.get(key)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Every object of a bucket (or container), with its bytes. */
async function objectsOf(url: string): Promise<{ key: string; body: Buffer }[]> {
  const store = openObjectStore(url);
  const out: { key: string; body: Buffer }[] = [];
  for await (const o of store.list('')) out.push({ key: o.key, body: await bytesOf(store, o.key) });
  return out;
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

/** Query strings of presigned URLs: S3 (SigV4), Azure SAS, and the API's own signed URLs. */
const SIGNED_QUERY: Array<[string, RegExp]> = [
  ['an X-Amz-Signature query string', /X-Amz-Signature=/i],
  ['an X-Amz-Credential query string', /X-Amz-Credential=/i],
  ['a SAS sig= query string', /[?&]sig=[0-9A-Za-z%+/=]{8,}/],
  ['an X-Goog-Signature query string', /X-Goog-(Signature|Credential)=/i],
];

/** Where each secret shows up in `text` (labels only: a finding never repeats the secret). */
function findIn(text: string | Buffer, secrets: Map<string, string>): string[] {
  const hay = typeof text === 'string' ? text : text.toString('latin1');
  const found: string[] = [];
  for (const [label, secret] of secrets) if (hay.includes(secret)) found.push(label);
  for (const [label, pattern] of SIGNED_QUERY) if (pattern.test(hay)) found.push(label);
  return found;
}

/**
 * The presigned URLs the emulator received in references requests, and the signature values in them
 * (as sent, percent-encoded, and decoded).
 */
function receivedReferences(): { urls: string[]; signatures: Set<string> } {
  const urls: string[] = [];
  for (const r of emulator.requests()) {
    if (!/\/bulk-upload\/(image|video)-references$/.test(r.path)) continue;
    // A request answered by an injected fault was never read: it has no body.
    const body = (r.body ?? {}) as {
      imageReferences?: { url: string }[];
      videoReferences?: { url: string }[];
    };
    for (const ref of [...(body.imageReferences ?? []), ...(body.videoReferences ?? [])]) urls.push(ref.url);
  }
  const signatures = new Set<string>();
  for (const raw of urls) {
    const url = new URL(raw);
    for (const name of ['X-Amz-Signature', 'sig']) {
      const value = url.searchParams.get(name);
      if (!value) continue;
      signatures.add(value);
      signatures.add(encodeURIComponent(value));
    }
  }
  return { urls, signatures };
}

/**
 * An account SAS (blob service; read, write, delete, list, add, create; 1 h) signed by Azure's SDK, in
 * a child: the SDK is the test kit's dependency, not this workspace's.
 */
function accountSas(account: string, key: string): string {
  const script = `
    const az = require(process.argv[1]);
    const sas = az.generateAccountSASQueryParameters(
      {
        services: 'b',
        resourceTypes: 'sco',
        permissions: az.AccountSASPermissions.parse('rwdlac'),
        expiresOn: new Date(Date.now() + 3600000),
      },
      new az.StorageSharedKeyCredential(process.env.ACCOUNT, process.env.KEY),
    );
    process.stdout.write(sas.toString());`;
  const sdk = createRequire(join(repoRoot, 'packages', 'testkit', 'package.json')).resolve(
    '@azure/storage-blob',
  );
  return execFileSync(process.execPath, ['-e', script, sdk], {
    env: { PATH: process.env.PATH ?? '', ACCOUNT: account, KEY: key },
    encoding: 'utf8',
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rfb-bucket-secrets-'));
  redis = await spawnRedis();
  // Our own key pair, not s3rver's public built-in one: a leaked credential must be one to look for.
  [s3, azure] = await Promise.all([
    startS3Server({ keys: { id: AWS_ACCESS_KEY_ID, secret: AWS_SECRET_ACCESS_KEY } }),
    startAzurite(),
  ]);
  storageEnv = { ...s3.env, ...azure.env };
  const connection = azure.env.AZURE_STORAGE_CONNECTION_STRING!;
  AZURE_KEY = /AccountKey=([^;]+)/.exec(connection)![1]!;
  const account = /AccountName=([^;]+)/.exec(connection)![1]!;
  sasToken = accountSas(account, AZURE_KEY);
  // The test process fills the buckets with the same variables (the stores read the environment only).
  Object.assign(process.env, storageEnv);
  forgetObjectStores();
  for (const bucket of ['media', 'work', 'results']) await s3.createBucket(bucket);
  for (const container of ['media', 'results']) await azure.createBucket(container);
  const objects = Object.entries({ ...objectTree(N), 'photos/notes.txt': Buffer.from('not an image') });
  for (const url of ['s3://media/', 'az://media/']) {
    const store = openObjectStore(url);
    await eachLimited(objects, 16, async ([key, body]) => store.put(key, body));
  }

  emulator = await startEmulator({
    apiKeys: [API_KEY],
    indexingDelayMs: 20,
    processingMsPerItem: 0,
    jobStartDelayMs: 20,
    webhookRetryBaseMs: 50,
  });
  const port = await freePort();
  gateway = `http://127.0.0.1:${port}`;
  const env = {
    ...storageEnv,
    REDIS_URL: redis.url,
    RFBATCH_PREFIX: 'bsec-gw',
    RFBATCH_WORK_URL: 's3://work/fleet/',
    ROBOFLOW_API_URL: emulator.url,
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
  // Each service on a work dir of its own: they share only Redis and the work bucket.
  for (const s of ['ingest', 'jobs', 'export', 'gateway'])
    startProcess(s, `services/${s}/src/main.ts`, { ...env, RFBATCH_WORK_DIR: join(dir, `work-${s}`) });
  await until('the gateway', async () => ((await fetch(`${gateway}/healthz`)).ok ? true : undefined), 60_000);
}, 120_000);

afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await emulator?.close();
  await redis?.stop();
  await s3?.close();
  await azure?.close();
  process.env = saved;
  forgetObjectStores();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('secrets on bucket runs', () => {
  it('no credential or presigned URL in Redis, logs, the board or the output buckets', async () => {
    // --- s3:// in references mode; the first references requests answer 503 (retried, logged).
    emulator.setFaults({
      seed: 7,
      pathPrefix: '/data-staging/v1/external/local/batches/rfb-bsec-s3-refs/bulk-upload/',
      serverErrorRate: 1,
      serverErrorStatuses: [503],
      firstN: 2,
    });
    const refs = await submitAndWait('bsec-s3-refs', {
      source: { kind: 'bucket', url: 's3://media/photos/', mode: 'references' },
      output: { dir: 's3://results/s3-refs/' },
    });
    emulator.setFaults({ serverErrorRate: 0, pathPrefix: '', firstN: null });
    expect(refs.status, JSON.stringify(refs.error)).toBe('completed');

    // --- s3:// in stream mode (the workers read the objects into tar shards).
    const stream = await submitAndWait('bsec-s3-stream', {
      source: { kind: 'bucket', url: 's3://media/photos/', mode: 'stream' },
      upload: { shardMaxImages: 10 },
      output: { dir: 's3://results/s3-stream/' },
    });
    expect(stream.status, JSON.stringify(stream.error)).toBe('completed');

    // --- az:// in references mode: SAS URLs, checked by azurite when the emulator fetches them.
    const az = await submitAndWait('bsec-az-refs', {
      source: { kind: 'bucket', url: 'az://media/photos/', mode: 'references' },
      output: { dir: 'az://results/az-refs/' },
    });
    expect(az.status, JSON.stringify(az.error)).toBe('completed');

    // --- A bucket that does not exist: the run fails at plan, its error is recorded.
    const missing = await submitAndWait('bsec-missing', {
      source: { kind: 'bucket', url: 's3://no-such-bucket/photos/' },
      output: { dir: 's3://results/missing/' },
    });
    expect(missing.status).toBe('failed');
    await api('/runs');
    await api('/metrics');

    // --- Bull Board's API: every queue in every status, every job with its logs and flow.
    const board = (path: string) => api(`/board/api${path}`);
    expect((await board('/queues')).status).toBe(200);
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

    // --- The CLI, all workers in its process, JSON trace logs: s3:// references to an s3:// output.
    const cliEnv = {
      ...storageEnv,
      HOME: process.env.HOME ?? '/tmp',
      REDIS_URL: redis.url,
      RFBATCH_PREFIX: 'bsec-cli',
      RFBATCH_WORK_DIR: join(dir, 'cli-work'),
      ROBOFLOW_API_URL: emulator.url,
      ROBOFLOW_API_KEY: API_KEY,
      LOG_LEVEL: 'trace',
      LOG_FORMAT: 'json',
    };
    const commands = [
      [
        'run',
        's3://media/photos/',
        '--bucket-mode',
        'references',
        '--workflow',
        'wf-cli',
        '--local',
        '--run-id',
        'bsec-cli-run',
        '--out',
        's3://results/cli/',
        '--json',
      ],
      ['status', 'bsec-cli-run', '--json'],
      ['status', 'bsec-cli-run'],
      ['ls'],
      ['batches', 'ls'],
    ];
    for (const args of commands) {
      const res = await cliProcess(args, cliEnv);
      shown.push({
        where: `rfbatch ${args.join(' ')} (exit ${res.code})`,
        text: `${res.stdout}\n${res.stderr}`,
      });
      if (args[0] === 'run') expect(res.code, res.stderr.slice(-3000)).toBe(0);
    }

    // --- The CLI with a SAS token as the Azure credential (no account key): a stream run to an az://
    // output, a missing container (SDK errors carry the request URL, SAS included), a references run
    // (refused: presigning would hand the token itself to the API) and a dry run.
    const sasEnv = {
      ...cliEnv,
      RFBATCH_PREFIX: 'bsec-sas',
      RFBATCH_WORK_DIR: join(dir, 'sas-work'),
      AZURE_STORAGE_CONNECTION_STRING: `BlobEndpoint=${azure.endpoint};SharedAccessSignature=${sasToken}`,
    };
    const local = ['--workflow', 'wf-sas', '--local', '--json'];
    const sasCommands: Array<[string[], 'ok' | 'fails']> = [
      [['run', 'az://media/photos/', '--bucket-mode', 'stream', ...local, '--run-id', 'bsec-sas-run'], 'ok'],
      [
        [
          'run',
          'az://no-such-container/x/',
          '--bucket-mode',
          'stream',
          ...local,
          '--run-id',
          'bsec-sas-missing',
        ],
        'fails',
      ],
      [['run', 'az://media/photos/', ...local, '--run-id', 'bsec-sas-refs'], 'fails'],
      [['run', 'az://no-such-container/x/', '--workflow', 'wf-sas', '--dry-run'], 'fails'],
      [['status', 'bsec-sas-run', '--json'], 'ok'],
    ];
    for (const [args, outcome] of sasCommands) {
      const withOut =
        args[0] === 'run' && args.includes('--run-id')
          ? [...args, '--out', `az://results/${args[args.indexOf('--run-id') + 1]}/`]
          : args;
      const res = await cliProcess(withOut, sasEnv);
      shown.push({
        where: `rfbatch ${withOut.join(' ')} with a SAS (exit ${res.code})`,
        text: `${res.stdout}\n${res.stderr}`,
      });
      if (outcome === 'ok') expect(res.code, res.stderr.slice(-3000)).toBe(0);
      else expect(res.code, res.stdout.slice(-3000)).not.toBe(0);
    }

    // --- Collect everything and look.
    for (const p of procs) shown.push({ where: `log of ${p.name}`, text: p.output() });
    const dump = await redisDump();
    const objects = [
      ...(await objectsOf('s3://results/')).map((o) => ({ where: `object s3://results/${o.key}`, ...o })),
      ...(await objectsOf('s3://work/')).map((o) => ({ where: `object s3://work/${o.key}`, ...o })),
      ...(await objectsOf('az://results/')).map((o) => ({ where: `object az://results/${o.key}`, ...o })),
    ];
    const files: string[] = [];
    for (const name of ['work-ingest', 'work-jobs', 'work-export', 'work-gateway', 'cli-work', 'sas-work'])
      files.push(...(await filesUnder(join(dir, name))));
    const received = receivedReferences();
    const secrets = new Map<string, string>([
      ['the AWS secret access key', AWS_SECRET_ACCESS_KEY],
      ['the AWS access key id', AWS_ACCESS_KEY_ID],
      ['the Azure account key', AZURE_KEY],
      ['the SAS token signature', new URLSearchParams(sasToken).get('sig')!],
      ['the SAS token signature (encoded)', encodeURIComponent(new URLSearchParams(sasToken).get('sig')!)],
      ['the API key', API_KEY],
      ['the gateway token', GATEWAY_TOKEN],
      ['the webhook secret', WEBHOOK_SECRET],
      ...[...received.signatures].map((s, i) => [`presigned-URL signature #${i + 1}`, s] as [string, string]),
    ]);

    // The scan covered real material: both kinds of presigned URL reached the emulator (3 runs × N).
    expect(received.urls.filter((u) => u.includes('X-Amz-Signature=')).length).toBeGreaterThanOrEqual(2 * N);
    expect(received.urls.filter((u) => /[?&]sig=/.test(u)).length).toBeGreaterThanOrEqual(N);
    expect(received.signatures.size).toBeGreaterThanOrEqual(3 * N);
    expect(dump.length).toBeGreaterThan(20);
    expect(boardJobs).toBeGreaterThan(10);
    for (const out of [
      's3://results/s3-refs/',
      's3://results/s3-stream/',
      'az://results/az-refs/',
      's3://results/cli/',
      'az://results/bsec-sas-run/',
    ]) {
      const [scheme, , bucket, prefix] = out.split('/');
      const keys = objects
        .filter((o) => o.where.startsWith(`object ${scheme}//${bucket}/${prefix}/`))
        .map((o) => o.key.slice(prefix!.length + 1));
      expect(keys, out).toEqual(expect.arrayContaining(['results.jsonl', 'summary.json']));
      const results = objects.find((o) => o.where === `object ${out}results.jsonl`)!;
      expect(results.body.toString('utf8').trim().split('\n').length, out).toBeGreaterThanOrEqual(N);
    }
    expect(objects.some((o) => o.where.startsWith('object s3://work/fleet/runs/bsec-s3-refs/'))).toBe(true);
    const logLines = procs.reduce((n, p) => n + p.output().split('\n').length, 0);
    expect(logLines).toBeGreaterThan(50);
    // The scanner finds what it looks for: a received URL, its signature alone, a key in a log line.
    const sample = received.urls.find((u) => u.includes('X-Amz-Signature='))!;
    const sampleSignature = new URL(sample).searchParams.get('X-Amz-Signature')!;
    expect(findIn(`{"msg":"fetch","url":"${sample}"}`, secrets)).toEqual(
      expect.arrayContaining(['the AWS access key id', 'an X-Amz-Signature query string']),
    );
    expect(findIn(`sig ${sampleSignature}`, secrets).length).toBe(1);
    const sas = received.urls.find((u) => /[?&]sig=/.test(u))!;
    expect(findIn(sas, secrets)).toEqual(expect.arrayContaining(['a SAS sig= query string']));
    expect(findIn(`x${AWS_SECRET_ACCESS_KEY}x`, secrets)).toEqual(['the AWS secret access key']);

    const findings: string[] = [];
    for (const { where, text } of [...shown, ...dump])
      for (const f of findIn(text, secrets)) findings.push(`${f} in ${where}`);
    for (const { where, body } of objects)
      for (const f of findIn(body, secrets)) findings.push(`${f} in ${where}`);
    for (const file of files)
      for (const f of findIn(await readFile(file), secrets)) findings.push(`${f} in file ${file}`);
    expect(findings).toEqual([]);
  }, 480_000);
});
