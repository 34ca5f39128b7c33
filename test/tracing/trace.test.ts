/**
 * One trace per run, across processes: the gateway (exporting `http/json`) and `rfbatch workers`
 * (exporting `http/protobuf`) as real processes, a local OTLP receiver on loopback, the emulator as
 * the API. A run submitted with `POST /runs` (carrying a caller's `traceparent`) and one submitted by
 * `rfbatch submit` each end in one trace id that holds the entry span, BullMQ's producer and
 * consumer spans of every queue (runs, ingest, jobs, export), the API calls and the signed-URL
 * transfers — with no URL query (API key, signature) in any span.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '@rfbatch/emulator';
import { pngBytes } from '@rfbatch/testkit/images';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '@rfbatch/testkit/otlp-receiver';
import { cleanupPrefix, testPrefix, testRedisUrl } from '@rfbatch/testkit/redis';
import { writeTree } from '@rfbatch/testkit/source-tree';
import { repoRoot, rfbatchBin } from '../cli/cli-harness.js';

const prefix = testPrefix('trace');
const API_KEY = 'trace-test-key-secret';
let emulator: Emulator;
let receiver: OtlpReceiver;
let workDir: string;
let gatewayUrl = '';
const procs: Array<{ name: string; child: ChildProcess; output: () => string; exited: Promise<unknown> }> =
  [];

function baseEnv(protocol: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    NODE_OPTIONS: process.env.NODE_OPTIONS ?? '',
    REDIS_URL: testRedisUrl(),
    RFBATCH_PREFIX: prefix,
    RFBATCH_WORK_DIR: join(workDir, 'work'),
    ROBOFLOW_API_URL: emulator.url,
    ROBOFLOW_API_KEY: API_KEY,
    RFBATCH_JOBS_POLL_MIN_MS: '200',
    RFBATCH_JOBS_POLL_MAX_MS: '500',
    LOG_FORMAT: 'json',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
    ...extra,
  };
}

function start(name: string, args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [rfbatchBin, ...args], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const take = (c: Buffer) => (output = (output + c.toString()).slice(-20_000));
  child.stdout?.on('data', take);
  child.stderr?.on('data', take);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const proc = { name, child, output: () => output, exited };
  procs.push(proc);
  return proc;
}

async function until<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await Promise.resolve(fn()).catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${what}\n${procs.map((p) => `--- ${p.name}\n${p.output().slice(-3_000)}`).join('\n')}`,
      );
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function runEnded(runId: string): Promise<string> {
  return until(
    `run ${runId} to end`,
    async () => {
      const body = (await (await fetch(`${gatewayUrl}/runs/${runId}`)).json()) as { status: string };
      return ['completed', 'failed', 'cancelled'].includes(body.status) ? body.status : undefined;
    },
    90_000,
  );
}

/**
 * The spans of one trace once the last job (finalize) was added and nothing new arrived for 2 s
 * (each process sends its batch about every second).
 */
function traceOf(traceId: string): Promise<ReceivedSpan[]> {
  let count = -1;
  let stableSince = Date.now();
  return until(`the spans of trace ${traceId}`, () => {
    const spans = receiver.spans.filter((s) => s.traceId === traceId);
    if (spans.length !== count) [count, stableSince] = [spans.length, Date.now()];
    const finalized = spans.some((s) => s.name === 'add export.finalize');
    return finalized && Date.now() - stableSince > 2_000 ? spans : undefined;
  }).catch((error: unknown) => {
    const seen = (list: ReceivedSpan[]) =>
      [...new Set(list.map((s) => `${s.service}/${s.scope}/${s.kind}/${s.name}`))].join('\n  ');
    throw new Error(
      `${String(error)}\nin the trace:\n  ${seen(receiver.spans.filter((s) => s.traceId === traceId))}\nall:\n  ${seen(receiver.spans)}`,
    );
  });
}

function expectOneRunTrace(spans: ReceivedSpan[], shards: boolean) {
  // BullMQ's consumer spans (kind 5) of every queue, each in a worker process, exported as protobuf.
  const consumers = spans.filter((s) => s.scope === 'rfbatch' && s.kind === 5);
  for (const queue of ['runs', 'ingest', 'jobs', 'export'])
    expect(
      consumers.some((s) => s.name.startsWith(`process ${queue}`)),
      `a consumer span of ${queue}: ${[...new Set(consumers.map((s) => s.name))].join(', ')}`,
    ).toBe(true);
  expect(new Set(consumers.map((s) => s.protocol))).toEqual(new Set(['http/protobuf']));
  expect(consumers.every((s) => s.service === 'rfbatch-ingest-jobs-export')).toBe(true);
  // Producer spans: where each job was added.
  expect(spans.some((s) => s.kind === 4)).toBe(true);
  // The API calls (client spans named after the endpoint template) and the signed-URL transfers.
  const clients = spans.filter((s) => s.kind === 3);
  expect(
    clients.some(
      (s) => s.attributes['url.template'] !== undefined && s.attributes['http.response.status_code'] === 200,
    ),
  ).toBe(true);
  // Tar shards go to signed URLs (a small folder goes by single uploads, an API call each).
  if (shards) expect(clients.some((s) => s.name === 'signed-url PUT')).toBe(true);
  else expect(clients.some((s) => s.name === 'POST /batches/{batchId}/upload/image')).toBe(true);
  expect(clients.some((s) => s.name === 'signed-url GET')).toBe(true);
  // Nothing secret: no query string, no API key, anywhere in any span.
  const text = JSON.stringify(spans);
  expect(text).not.toContain(API_KEY);
  expect(text).not.toMatch(/\?(?!<redacted>)[^"]*=/);
  for (const s of clients) expect(String(s.attributes['url.full'] ?? '')).not.toMatch(/\?(?!<redacted>)/);
  // One tree: every parent is a span of this trace (or the caller's own span).
  const ids = new Set(spans.map((s) => s.spanId));
  return spans.filter((s) => s.parentSpanId && !ids.has(s.parentSpanId));
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'rfb-trace-'));
  receiver = await startOtlpReceiver();
  emulator = await startEmulator({ indexingDelayMs: 50, processingMsPerItem: 2 });
  const workers = start('workers', ['workers'], baseEnv('http/protobuf'));
  const gateway = start('gateway', ['gateway', '--port', '0'], baseEnv('http/json'));
  gatewayUrl = await until(
    'the gateway URL',
    () => /^gateway listening on (http:\/\/\S+)$/m.exec(gateway.output())?.[1],
  );
  await until('the workers', () => (/"msg":"workers .* running/.test(workers.output()) ? true : undefined));
  await writeTree(
    join(workDir, 'images'),
    Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`img-${i}.png`, pngBytes(i)])),
  );
}, 120_000);

afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGTERM');
  await Promise.all(procs.map((p) => p.exited));
  await receiver?.close();
  await emulator?.close();
  await cleanupPrefix(prefix);
  await rm(workDir, { recursive: true, force: true });
});

describe('tracing (OTEL_EXPORTER_OTLP_ENDPOINT set)', () => {
  it('follows a POST /runs in one trace (the caller’s traceparent) through ingest, jobs and export', async () => {
    const traceId = randomBytes(16).toString('hex');
    const callerSpan = randomBytes(8).toString('hex');
    const res = await fetch(`${gatewayUrl}/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${callerSpan}-01` },
      body: JSON.stringify({
        source: { kind: 'directory', path: join(workDir, 'images') },
        workflow: { workflowId: 'wf-trace' },
        output: { dir: join(workDir, 'out-http') },
        upload: { singleUploadMaxImages: 0 },
      }),
    });
    expect(res.status).toBe(201);
    const { runId } = (await res.json()) as { runId: string };
    expect(await runEnded(runId)).toBe('completed');

    const spans = await traceOf(traceId);
    const entry = spans.find((s) => s.name === 'POST /runs');
    expect(entry).toMatchObject({
      kind: 2,
      service: 'rfbatch-gateway',
      protocol: 'http/json',
      parentSpanId: callerSpan,
    });
    const orphans = expectOneRunTrace(spans, true);
    expect(orphans.map((s) => s.parentSpanId)).toEqual(orphans.map(() => callerSpan));
  }, 120_000);

  it('starts the trace at `rfbatch submit`', async () => {
    const submit = start(
      'submit',
      [
        'submit',
        join(workDir, 'images'),
        '--workflow',
        'wf-trace-cli',
        '--out',
        join(workDir, 'out-cli'),
        '--json',
      ],
      baseEnv('http/json'),
    );
    expect(await submit.exited).toBe(0);
    const { runId } = JSON.parse(/\{[^]*\}/.exec(submit.output())?.[0] ?? '{}') as { runId: string };
    expect(await runEnded(runId)).toBe('completed');
    const root = await until('the rfbatch submit span', () =>
      receiver.spans.find((s) => s.name === 'rfbatch submit' && s.service === 'rfbatch-cli'),
    );
    expect(root.parentSpanId).toBe('');
    const spans = await traceOf(root.traceId);
    expect(expectOneRunTrace(spans, false)).toEqual([]);
  }, 120_000);
});
