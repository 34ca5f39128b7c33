/**
 * Bad input, one table: every row is a bad input (a RunSpec field, an id, a source folder, a file, a
 * references line, an API answer, a webhook body, a gateway request, an export archive), the exact
 * error or report line it must produce, the exit code for CLI rows, and a check that nothing else was
 * lost (the rest of the run completes where it should, nothing was created or uploaded where it
 * should not be). Rows that need a run share one (a group, run once, lazily), so the table stays fast.
 *
 * "Unreadable" is honest here: these tests run as root, for whom chmod 000 changes nothing, so those
 * rows run `rfbatch run` as the unprivileged user `nobody` (uid 65534), for whom the permission bits
 * hold. A dangling symlink and a FIFO cover the "cannot read a file" shapes root also meets.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '@rfbatch/emulator';
import { pngBytes } from '@rfbatch/testkit/images';
import { cleanupPrefix, testPrefix, testRedisUrl } from '@rfbatch/testkit/redis';
import { writeTree } from '@rfbatch/testkit/source-tree';
import { startStack, type Stack } from '@rfbatch/testkit/stack';
import { RfbatchError, stageJobId, type RunState } from '@rfbatch/shared';
import { cli, rfbatchBin, repoRoot, type CliResult } from '../cli/cli-harness.js';
import { retryRun } from '@rfbatch/run-control';

const TOKEN = 'bad-input-gateway-token';
const RIGHT_KEY = 'bad-input-right-key';
const NOBODY = 65_534;

let stack: Stack;
/** A second emulator that accepts one key only (401 rows, and the rows run as `nobody`). */
let strict: Emulator;
let base: string;
const cliPrefix = testPrefix('badcli');

beforeAll(async () => {
  stack = await startStack({
    gateway: true,
    env: { RFBATCH_GATEWAY_TOKEN: TOKEN },
    // A verify budget of seconds, so a run whose items never arrive ends quickly.
    jobs: { verifyTimeoutMs: 8_000 },
  });
  strict = await startEmulator({
    apiKeys: [RIGHT_KEY],
    indexingDelayMs: 0,
    processingMsPerItem: 0,
    jobStartDelayMs: 0,
    webhooks: false,
  });
  base = await mkdtemp(join(tmpdir(), 'rfb-bad-input-'));
  await chmod(base, 0o755);
}, 60_000);

afterAll(async () => {
  await stack?.close();
  await strict?.close();
  await cleanupPrefix(cliPrefix);
  if (base) await rm(base, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// Helpers

interface ResultLine {
  source: string;
  remoteName?: string;
  status: string;
  reason?: string;
  detail?: string;
  result?: Record<string, unknown>;
}

/** Runs `fn` once, on first use (a group of rows shares one run). */
function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= fn());
}

async function resultLines(runId: string, outDir = join(stack.outputDir, runId)): Promise<ResultLine[]> {
  const text = await readFile(join(outDir, 'results.jsonl'), 'utf8');
  return text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as ResultLine);
}

function lineFor(lines: ResultLine[], source: string): ResultLine {
  const found = lines.filter((l) => l.source === source);
  expect(found, `one results line for "${source}"`).toHaveLength(1);
  return found[0]!;
}

/** The status part of a results line (what the user reads first), as one JSON string. */
function statusLine(l: ResultLine): string {
  const { source, status, reason, detail } = l;
  return JSON.stringify({ source, status, ...(reason ? { reason } : {}), ...(detail ? { detail } : {}) });
}

async function images(dir: string, n: number, tag: string): Promise<void> {
  await writeTree(
    dir,
    Object.fromEntries(Array.from({ length: n }, (_, i) => [`good-${i}.png`, pngBytes(`${tag}-${i}`)])),
  );
}

/** The error line a RunSpec gets at submit, or `accepted` when it was taken. */
async function submitError(spec: Record<string, unknown>): Promise<string> {
  try {
    await stack.submit(spec);
    return 'accepted';
  } catch (error) {
    return error instanceof RfbatchError ? error.message : String(error);
  }
}

/** Nothing of a refused spec reached Redis: no run, no intake job. */
async function nothingSubmitted(runId: string): Promise<void> {
  expect(await stack.ctx.store.get(runId)).toBeNull();
  expect(await stack.ctx.queues.runs.getJob(stageJobId('intake', runId))).toBeUndefined();
}

/** A run that failed before uploading anything: no batch exists for it on the emulator. */
function nothingUploaded(
  state: RunState,
  batches = stack.emulator.state().batches.map((b) => b.batchId),
): void {
  expect(state.counters.bytesUploaded).toBe(0);
  expect(state.counters.filesUploaded).toBe(0);
  expect(batches).not.toContain(`rfb-${state.runId}`);
}

const cliEnv = (extra: Record<string, string> = {}) => ({
  REDIS_URL: testRedisUrl(),
  RFBATCH_PREFIX: cliPrefix,
  ROBOFLOW_API_URL: strict.url,
  ROBOFLOW_API_KEY: RIGHT_KEY,
  RFBATCH_WORK_DIR: join(base, 'cli-work'),
  LOG_LEVEL: 'error',
  ...extra,
});

/** The one `rfbatch: …` line of a failed command (and no stack trace). */
function reason(res: CliResult): string {
  const lines = res.stderr.split('\n').filter((l) => l.startsWith('rfbatch: '));
  expect(lines, res.stderr).toHaveLength(1);
  expect(res.stderr).not.toMatch(/^\s+at /m);
  return lines[0]!;
}

/**
 * The real `rfbatch` bin as the unprivileged user `nobody`, so permission bits apply (when the tests
 * run as root; an ordinary user is already bound by them).
 */
function cliAsNobody(args: string[], env: Record<string, string>): Promise<CliResult> {
  const user = process.getuid?.() === 0 ? { uid: NOBODY, gid: NOBODY } : {};
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [rfbatchBin, ...args], {
      cwd: repoRoot,
      ...user,
      // NODE_OPTIONS carries the source condition (vitest.config.ts): the bin runs the TypeScript, no build needed.
      env: {
        PATH: process.env.PATH ?? '',
        HOME: tmpdir(),
        NODE_OPTIONS: process.env.NODE_OPTIONS ?? '',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

async function http(
  path: string,
  init: RequestInit & { token?: string | null } = {},
): Promise<{ status: number; body: string }> {
  const { token = TOKEN, ...rest } = init;
  const headers: Record<string, string> = { ...(rest.headers as Record<string, string> | undefined) };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${stack.gatewayUrl!}${path}`, { ...rest, headers });
  return { status: res.status, body: await res.text() };
}

function webhook(
  body: string | undefined,
  headers: Record<string, string> = {},
  secret = stack.env.RFBATCH_WEBHOOK_SECRET!,
) {
  return http(`/webhooks/roboflow/${secret}`, {
    method: 'POST',
    token: null,
    headers: { authorization: 'Bearer rf_local', 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body }),
  });
}

/** The gateway still answers and a finished run still reads completed: a bad request broke nothing. */
async function gatewayIntact(): Promise<void> {
  expect((await http('/healthz', { token: null })).status).toBe(200);
  const { runId } = await folderRun();
  const view = await http(`/runs/${runId}`);
  expect(view.status).toBe(200);
  expect((JSON.parse(view.body) as { status: string }).status).toBe('completed');
}

// ---------------------------------------------------------------------------------------------
// Groups: one run (or one process) shared by several rows

const GOOD = 20;

/** One folder holding good images and every kind of bad file; the run must complete around them. */
const folderRun = once(async () => {
  const dir = join(base, 'mixed');
  await images(dir, GOOD, 'mixed');
  await writeTree(dir, {
    'zero.png': Buffer.alloc(0),
    'truncated.png': pngBytes('truncated').subarray(0, 12),
    'huge.png': Buffer.concat([pngBytes('huge'), Buffer.alloc(25 * 1024 * 1024)]),
    'text.jpg': 'this is a text file, not a JPEG\n',
    'new\nline.png': pngBytes('newline'),
    '..dots...png': pngBytes('dots'),
    [`${'long-name-'.repeat(24)}end.png`]: pngBytes('long'),
    'ünïcödé 画像.png': pngBytes('unicode'),
    'sub/inner.png': pngBytes('inner'),
  });
  await symlink('loop-b.png', join(dir, 'loop-a.png'));
  await symlink('loop-a.png', join(dir, 'loop-b.png'));
  await symlink('..', join(dir, 'sub', 'up'));
  await symlink('/nonexistent/rfbatch/target.png', join(dir, 'dangling.png'));
  expect(spawnSync('mkfifo', [join(dir, 'fifo.png')]).status).toBe(0);
  const runId = await stack.submit({ runId: 'bad-mixed', source: { kind: 'directory', path: dir } });
  const state = await stack.waitForRun(runId, 120_000);
  expect(state.error).toBeUndefined();
  expect(state.status).toBe('completed');
  const lines = await resultLines(runId);
  return { runId, state, lines };
});

/** The rest of the mixed folder completed: every good image has its ok line. */
async function mixedRestComplete(): Promise<void> {
  const { lines } = await folderRun();
  for (let i = 0; i < GOOD; i++) expect(lineFor(lines, `good-${i}.png`).status).toBe('ok');
  expect(lineFor(lines, 'sub/inner.png').status).toBe('ok');
}

/** A run that must fail at plan (bad source); returns its state. */
function failingRun(runId: string, source: Record<string, unknown>) {
  return once(async () => {
    const id = await stack.submit({ runId, source });
    const state = await stack.waitForRun(id, 120_000);
    expect(state.status).toBe('failed');
    return state;
  });
}

const missingRun = failingRun('bad-missing', {
  kind: 'directory',
  path: join(tmpdir(), 'rfb-bad-input-does-not-exist'),
});
const emptyRun = once(async () => {
  await mkdir(join(base, 'empty'), { recursive: true });
  return failingRun('bad-empty', { kind: 'directory', path: join(base, 'empty') })();
});
const nonMediaRun = once(async () => {
  await writeTree(join(base, 'non-media'), { 'notes.txt': 'x', 'data.json': '{}', 'clip.gif': 'GIF89a' });
  return failingRun('bad-non-media', { kind: 'directory', path: join(base, 'non-media') })();
});
const notFolderRun = once(async () => {
  await writeTree(base, { 'a-file.png': pngBytes('file') });
  return failingRun('bad-not-folder', { kind: 'directory', path: join(base, 'a-file.png') })();
});
const throughFileRun = once(async () => {
  await writeTree(base, { 'plain.txt': 'x' });
  return failingRun('bad-enotdir', { kind: 'directory', path: join(base, 'plain.txt', 'sub') })();
});

/** `rfbatch run` as `nobody`: a folder with an unreadable file and folder, and an unreadable root. */
const nobodyRuns = once(async () => {
  const root = join(base, 'nobody');
  for (const d of ['work', 'out']) {
    await mkdir(join(root, d), { recursive: true });
    await chmod(join(root, d), 0o777);
  }
  await images(join(root, 'src'), 5, 'nobody');
  await writeTree(join(root, 'src'), {
    'secret.png': pngBytes('secret'),
    'locked/inner.png': pngBytes('locked'),
  });
  await writeTree(join(root, 'locked-root'), { 'a.png': pngBytes('locked-root') });
  await chmod(join(root, 'src', 'secret.png'), 0o000);
  await chmod(join(root, 'src', 'locked'), 0o000);
  await chmod(join(root, 'locked-root'), 0o000);
  const env = cliEnv({ RFBATCH_WORK_DIR: join(root, 'work'), RFBATCH_PREFIX: `${cliPrefix}-nobody` });
  const inside = await cliAsNobody(
    [
      'run',
      join(root, 'src'),
      '--workflow',
      'wf',
      '--local',
      '--run-id',
      'nobody-inside',
      '--out',
      join(root, 'out', 'inside'),
    ],
    env,
  );
  const locked = await cliAsNobody(
    [
      'run',
      join(root, 'locked-root'),
      '--workflow',
      'wf',
      '--local',
      '--run-id',
      'nobody-root',
      '--out',
      join(root, 'out', 'root'),
    ],
    env,
  );
  await cleanupPrefix(`${cliPrefix}-nobody`);
  return {
    root,
    inside,
    locked,
    insideLines: inside.code === 0 ? await resultLines('nobody-inside', join(root, 'out', 'inside')) : [],
  };
});

/** A references file with a bad JSON line and a line with an ftp URL among good loopback references. */
const referencesRun = once(async () => {
  const server = await imageServer();
  const file = join(base, 'refs.jsonl');
  const lines = [
    '{not json',
    JSON.stringify({ name: 'ftp.png', url: 'ftp://example.com/ftp.png' }),
    ...Array.from({ length: 4 }, (_, i) =>
      JSON.stringify({ name: `ref-${i}.png`, url: `${server.url}/ref-${i}.png` }),
    ),
  ];
  await writeFile(file, `${lines.join('\n')}\n`);
  const runId = await stack.submit({ runId: 'bad-refs', source: { kind: 'references', path: file } });
  const state = await stack.waitForRun(runId, 120_000);
  await server.close();
  expect(state.status).toBe('completed');
  return { runId, state, lines: await resultLines(runId) };
});

/** References to a host the API will not fetch from (only loopback is trusted by the emulator). */
const unsafeReferencesRun = once(async () => {
  const server = await imageServer();
  const file = join(base, 'refs-unsafe.jsonl');
  await writeFile(
    file,
    `${[JSON.stringify({ name: 'near.png', url: `${server.url}/near.png` }), JSON.stringify({ name: 'far.png', url: 'https://images.example.com/far.png' })].join('\n')}\n`,
  );
  const runId = await stack.submit({ runId: 'bad-refs-unsafe', source: { kind: 'references', path: file } });
  const state = await stack.waitForRun(runId, 120_000);
  await server.close();
  return { runId, state };
});

async function imageServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const { createServer } = await import('node:http');
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'image/png');
    res.end(pngBytes(req.url ?? ''));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}

/** A run that meets an emulator fault at preflight, then is retried with the fault gone. */
function faultThenRetry(
  runId: string,
  faults: Parameters<Emulator['setFaults']>[0],
  clear: Parameters<Emulator['setFaults']>[0],
) {
  return once(async () => {
    await images(join(base, runId), 3, runId);
    stack.emulator.setFaults(faults);
    let failed: RunState;
    try {
      const id = await stack.submit({ runId, source: { kind: 'directory', path: join(base, runId) } });
      failed = await stack.waitForRun(id, 120_000);
    } finally {
      stack.emulator.setFaults(clear);
    }
    const batchesAtFailure = stack.emulator.state().batches.map((b) => b.batchId);
    await retryRun(stack.ctx, runId);
    const retried = await stack.waitForRun(runId, 120_000);
    return { failed, batchesAtFailure, retried, lines: await resultLines(runId) };
  });
}
const paymentRun = faultThenRetry('bad-402', { paymentRequired: true }, { paymentRequired: false });
const serverErrorRun = faultThenRetry(
  'bad-500',
  { serverErrorRate: 1, serverErrorStatuses: [500], pathPrefix: '/batch-processing/', firstN: 1 },
  { serverErrorRate: 0, pathPrefix: '', firstN: null },
);

/** Run A completes with a fixed job id; run B asks for the same job id with another Workflow. */
const conflictRuns = once(async () => {
  await images(join(base, 'conflict-a'), 3, 'conflict-a');
  await images(join(base, 'conflict-b'), 3, 'conflict-b');
  const a = await stack.submit({
    runId: 'bad-409-a',
    jobId: 'bad-input-409',
    source: { kind: 'directory', path: join(base, 'conflict-a') },
  });
  const first = await stack.waitForRun(a, 120_000);
  const b = await stack.submit({
    runId: 'bad-409-b',
    jobId: 'bad-input-409',
    workflow: { workflowId: 'another-workflow' },
    source: { kind: 'directory', path: join(base, 'conflict-b') },
  });
  const second = await stack.waitForRun(b, 120_000);
  return { first, second, firstLines: await resultLines(a) };
});

/** A run whose first export archive is hostile; its output folder sits two levels down. */
function maliciousRun(kind: 'traversal' | 'absolute' | 'symlink' | 'bomb') {
  return once(async () => {
    const runId = `bad-export-${kind}`;
    const out = join(base, 'exports', 'deep', runId);
    await images(join(base, runId), 3, runId);
    stack.emulator.setFaults({ maliciousExport: kind });
    try {
      await stack.submit({
        runId,
        source: { kind: 'directory', path: join(base, runId) },
        output: { dir: out },
      });
      // The fault applies to jobs started while it is set.
      await stack.waitForState(
        runId,
        (s) => ['processing', 'exporting', 'completed', 'failed'].includes(s.status),
        120_000,
      );
    } finally {
      stack.emulator.setFaults({ maliciousExport: null });
    }
    const state = await stack.waitForRun(runId, 120_000);
    return { runId, out, state };
  });
}

/** Nothing of a refused archive was written, inside or outside the output folder. */
async function nothingEscaped(out: string): Promise<void> {
  expect(existsSync(join(out, '..', '..', 'rfbatch-escape.txt'))).toBe(false);
  expect(existsSync(join(out, '..', 'rfbatch-escape.txt'))).toBe(false);
  expect(existsSync('/tmp/rfbatch-absolute.txt')).toBe(false);
  expect(existsSync(join(out, 'outputs', 'results', 'export-00001'))).toBe(false);
}

// ---------------------------------------------------------------------------------------------
// The table

interface Observed {
  /** The exact error or report line. */
  line: string;
  /** Exit code of CLI rows. */
  exit?: number;
}

interface Case {
  name: string;
  observe: () => Promise<Observed>;
  line: string | (() => string);
  exit?: number;
  /** Proof that nothing else was lost. */
  intact: () => Promise<void>;
  /**
   * A known defect (reported): the row states the right behaviour, and passes while that behaviour is
   * still missing. Once fixed, the row fails and asks for this flag to be removed.
   */
  knownBug?: string;
}

const spec = (overrides: Record<string, unknown>, runId: string) => ({
  runId,
  source: { kind: 'directory', path: join(tmpdir(), 'unused') },
  workflow: { workflowId: 'wf' },
  output: { dir: join(tmpdir(), 'unused-out') },
  ...overrides,
});

/** A RunSpec row: the exact submit error and proof that nothing was submitted. */
function specCase(name: string, overrides: Record<string, unknown>, line: string): Case {
  const runId = `bad-spec-${name
    .replace(/[^a-z0-9]+/gi, '-')
    .toLowerCase()
    .slice(0, 28)}`;
  return {
    name: `RunSpec: ${name}`,
    observe: async () => ({ line: await submitError(spec(overrides, runId)) }),
    line,
    intact: () => nothingSubmitted(runId),
  };
}

/** A refused command submitted nothing: the CLI's prefix holds no run but the one row that runs. */
async function noCliRuns(): Promise<void> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
  try {
    expect((await redis.zrange(`${cliPrefix}:runs`, 0, -1)).filter((id) => id !== 'bad-401')).toEqual([]);
  } finally {
    redis.disconnect();
  }
}

function cliCase(
  name: string,
  args: () => string[],
  line: string | (() => string),
  exit: number,
  env: Record<string, string> = {},
): Case {
  return {
    name: `CLI: ${name}`,
    observe: async () => {
      const res = await cli(args(), cliEnv(env));
      return { line: reason(res), exit: res.code };
    },
    line,
    exit,
    intact: noCliRuns,
  };
}

/** A file of the mixed folder: its results line (or skipped line), and the rest of the folder completed. */
function fileCase(
  name: string,
  source: string,
  line: string,
  extra: (l: ResultLine) => void = () => {},
): Case {
  return {
    name: `file: ${name}`,
    observe: async () => {
      const l = lineFor((await folderRun()).lines, source);
      extra(l);
      return { line: statusLine(l) };
    },
    line,
    intact: mixedRestComplete,
  };
}

const safeRemoteName = (l: ResultLine) => {
  expect(l.remoteName).toMatch(/^[A-Za-z0-9._-]{1,100}$/);
  expect(Buffer.byteLength(l.remoteName!)).toBeLessThanOrEqual(100);
  expect(l.result?.file_name).toBe(l.remoteName);
};

const RULE = {
  batch: '1 to 64 characters of a-z, 0-9, "_" and "-" (lowercase)',
  job: '1 to 20 characters of a-z, 0-9, "_" and "-" (lowercase)',
  run: '1 to 40 characters of a-z, 0-9, "_" and "-", starting with a letter or digit',
};
const HELP = ' — see `rfbatch run --help`';
const SOURCE_HINT =
  'give a folder the ingest workers can read (on shared storage when workers run on several hosts)';
const failedLine = (s: RunState) => `${s.failedStage}: ${s.error?.message}`;
const failedIntact = (run: () => Promise<RunState>) => async () => {
  nothingUploaded(await run());
  await mixedRestComplete();
};

const cases: Case[] = [
  // RunSpec fields wrong in type or range (every one refused at submit, naming the field).
  specCase(
    'source missing',
    { source: undefined },
    'invalid run spec: source: Invalid input: expected object, received undefined',
  ),
  specCase(
    'source.kind unknown',
    { source: { kind: 'tape', path: 's3://x' } },
    "invalid run spec: source.kind: Invalid discriminator value. Expected 'directory' | 'references' | 'bucket' | 'staged'",
  ),
  specCase(
    'source.url of a bucket with an unknown scheme',
    { source: { kind: 'bucket', url: 'ftp://bucket/x/' } },
    'invalid run spec: source.url: unknown storage scheme "ftp://": rfbatch reads and writes s3:// (also R2, MinIO and other S3-compatible stores via AWS_ENDPOINT_URL), gs:// and az://',
  ),
  specCase(
    'source.path empty',
    { source: { kind: 'directory', path: '' } },
    'invalid run spec: source.path: must name a folder',
  ),
  specCase(
    'source.recursive not a boolean',
    { source: { kind: 'directory', path: '/x', recursive: 'yes' } },
    'invalid run spec: source.recursive: Invalid input: expected boolean, received string',
  ),
  specCase(
    'source.include with a glob',
    { source: { kind: 'directory', path: '/x', include: ['*.jpg'] } },
    'invalid run spec: source.include.0: an extension without the dot, e.g. "jpg"',
  ),
  specCase(
    'source.media unknown',
    { source: { kind: 'directory', path: '/x', media: 'audio' } },
    'invalid run spec: source.media: Invalid option: expected one of "images"|"videos"',
  ),
  specCase(
    'references with path and url',
    { source: { kind: 'references', path: '/x.jsonl', url: 'https://example.com/r.jsonl' } },
    'invalid run spec: source: give exactly one of "path" (a local JSONL file) or "url" (an https JSONL URL)',
  ),
  specCase(
    'workflow.workflowId empty',
    { workflow: { workflowId: '' } },
    'invalid run spec: workflow.workflowId: must name a Workflow',
  ),
  specCase(
    'workflow.aggregationFormat unknown',
    { workflow: { workflowId: 'wf', aggregationFormat: 'xml' } },
    'invalid run spec: workflow.aggregationFormat: Invalid option: expected one of "jsonl"|"csv"',
  ),
  specCase(
    'workflow.maxVideoFPS too high',
    { workflow: { workflowId: 'wf', maxVideoFPS: 1000 } },
    'invalid run spec: workflow.maxVideoFPS: Too big: expected number to be <=240',
  ),
  specCase(
    'workflow.parameters not an object',
    { workflow: { workflowId: 'wf', parameters: 'x=1' } },
    'invalid run spec: workflow.parameters: Invalid input: expected record, received string',
  ),
  specCase(
    'compute.machineType unknown',
    { compute: { machineType: 'tpu' } },
    'invalid run spec: compute.machineType: Invalid option: expected one of "cpu"|"gpu"',
  ),
  specCase(
    'compute.workersPerMachine 0',
    { compute: { workersPerMachine: 0 } },
    'invalid run spec: compute.workersPerMachine: Too small: expected number to be >=1',
  ),
  specCase(
    'compute.workersPerMachine fractional',
    { compute: { workersPerMachine: 1.5 } },
    'invalid run spec: compute.workersPerMachine: Invalid input: expected int, received number',
  ),
  specCase(
    'processingTimeoutSeconds below 60',
    { processingTimeoutSeconds: 30 },
    'invalid run spec: processingTimeoutSeconds: Too small: expected number to be >=60',
  ),
  specCase(
    'processingTimeoutSeconds a string',
    { processingTimeoutSeconds: '3600' },
    'invalid run spec: processingTimeoutSeconds: Invalid input: expected number, received string',
  ),
  specCase(
    'maxParallelTasks 0',
    { maxParallelTasks: 0 },
    'invalid run spec: maxParallelTasks: Too small: expected number to be >=1',
  ),
  specCase(
    'maxImageFailureRate above 1',
    { maxImageFailureRate: 1.5 },
    'invalid run spec: maxImageFailureRate: Too big: expected number to be <=1',
  ),
  specCase(
    'maxImageFailureRate negative',
    { maxImageFailureRate: -0.1 },
    'invalid run spec: maxImageFailureRate: Too small: expected number to be >=0',
  ),
  specCase(
    'output missing',
    { output: undefined },
    'invalid run spec: output: Invalid input: expected object, received undefined',
  ),
  specCase(
    'output.dir empty',
    { output: { dir: '' } },
    'invalid run spec: output.dir: must name a folder for the results',
  ),
  specCase(
    'notify not http(s)',
    { notify: 'ftp://example.com/hook' },
    'invalid run spec: notify: Invalid URL',
  ),
  specCase(
    'upload.shardMaxImages above 500',
    { upload: { shardMaxImages: 501 } },
    'invalid run spec: upload.shardMaxImages: Too big: expected number to be <=500',
  ),
  specCase(
    'upload.shardMaxBytes below 1 MiB',
    { upload: { shardMaxBytes: 1000 } },
    'invalid run spec: upload.shardMaxBytes: Too small: expected number to be >=1048576',
  ),
  specCase(
    'jobName too long',
    { jobName: 'j'.repeat(201) },
    'invalid run spec: jobName: Too big: expected string to have <=200 characters',
  ),
  specCase(
    'an unknown field (an API key in the spec)',
    { apiKey: 'rf-not-here' },
    'invalid run spec: (root): Unrecognized key: "apiKey"',
  ),

  // Ids breaking the API's rules.
  specCase(
    'batchId with uppercase and spaces',
    { batchId: 'Bad Batch!' },
    `invalid run spec: batchId: batch id "Bad Batch!" breaks the rule: ${RULE.batch}`,
  ),
  specCase(
    'batchId of 65 characters',
    { batchId: 'b'.repeat(65) },
    `invalid run spec: batchId: batch id "${'b'.repeat(65)}" breaks the rule: ${RULE.batch}`,
  ),
  specCase(
    'jobId of 21 characters',
    { jobId: 'j'.repeat(21) },
    `invalid run spec: jobId: job id "${'j'.repeat(21)}" breaks the rule: ${RULE.job}`,
  ),
  {
    name: 'RunSpec: runId with ":" (BullMQ ids must not hold one)',
    observe: async () => ({ line: await submitError(spec({}, 'run:one')) }),
    line: `invalid run spec: runId: run id "run:one" breaks the rule: ${RULE.run}`,
    intact: () => nothingSubmitted('run:one'),
  },
  cliCase(
    '--job-id in uppercase',
    () => ['submit', base, '--workflow', 'wf', '--job-id', 'JOB'],
    `rfbatch: invalid arguments: --job-id: job id "JOB" breaks the rule: ${RULE.job}${HELP}`,
    2,
  ),
  cliCase(
    '--batch-id with "/"',
    () => ['submit', base, '--workflow', 'wf', '--batch-id', 'a/b'],
    `rfbatch: invalid arguments: --batch-id: batch id "a/b" breaks the rule: ${RULE.batch}${HELP}`,
    2,
  ),
  cliCase(
    '--timeout below 60',
    () => ['submit', base, '--workflow', 'wf', '--timeout', '10'],
    `rfbatch: invalid arguments: --timeout: Too small: expected number to be >=60${HELP}`,
    2,
  ),
  cliCase(
    '--max-image-failure-rate above 1',
    () => ['submit', base, '--workflow', 'wf', '--max-image-failure-rate', '1.5'],
    `rfbatch: invalid arguments: --max-image-failure-rate: Too big: expected number to be <=1${HELP}`,
    2,
  ),

  // The source folder.
  {
    name: 'source folder missing (a run)',
    observe: async () => ({ line: failedLine(await missingRun()) }),
    line: `plan: folder "${join(tmpdir(), 'rfb-bad-input-does-not-exist')}" does not exist`,
    intact: failedIntact(missingRun),
  },
  cliCase(
    'source folder missing',
    () => ['run', join(base, 'nope'), '--workflow', 'wf'],
    () =>
      `rfbatch: source "${join(base, 'nope')}" does not exist (looked at ${join(base, 'nope')}) — give a folder of images or videos, or a .jsonl file of {"name","url"} references`,
    2,
  ),
  {
    name: 'source folder empty',
    observe: async () => ({ line: failedLine(await emptyRun()) }),
    line: () => `plan: folder "${join(base, 'empty')}" has no images to upload (it is empty)`,
    intact: failedIntact(emptyRun),
  },
  {
    name: 'source folder with only non-media files',
    observe: async () => ({ line: failedLine(await nonMediaRun()) }),
    line: () =>
      `plan: folder "${join(base, 'non-media')}" has no images to upload: 3 skipped (3 not-media); see ${join(stack.workDir, 'runs', 'bad-non-media', 'skipped.jsonl')}`,
    intact: failedIntact(nonMediaRun),
  },
  {
    name: 'source "folder" that is a file',
    observe: async () => ({ line: failedLine(await notFolderRun()) }),
    line: () => `plan: "${join(base, 'a-file.png')}" is not a folder`,
    intact: failedIntact(notFolderRun),
  },
  {
    name: 'source folder behind a file (ENOTDIR)',
    observe: async () => ({
      line: `${failedLine(await throughFileRun())} — ${(await throughFileRun()).error?.hint}`,
    }),
    line: () => `plan: folder "${join(base, 'plain.txt', 'sub')}" cannot be read (ENOTDIR) — ${SOURCE_HINT}`,
    intact: failedIntact(throughFileRun),
  },
  {
    name: 'source folder unreadable (chmod 000, run as nobody)',
    observe: async () => {
      const { locked } = await nobodyRuns();
      return { line: reason(locked), exit: locked.code };
    },
    line: () =>
      `rfbatch: run nobody-root failed at plan: folder "${join(base, 'nobody', 'locked-root')}" has no images to upload: 1 skipped (1 unreadable); see ${join(base, 'nobody', 'work', 'runs', 'nobody-root', 'skipped.jsonl')} — put jpg, png, webp, bmp or jp2 files in it (check "include" and "recursive"); retry with \`rfbatch retry nobody-root\``,
    exit: 1,
    intact: async () => expect((await nobodyRuns()).inside.code).toBe(0),
  },
  {
    name: 'unreadable file (chmod 000, run as nobody)',
    observe: async () => {
      const { inside, insideLines } = await nobodyRuns();
      expect(inside.code, inside.stderr).toBe(0);
      return { line: statusLine(lineFor(insideLines, 'secret.png')), exit: inside.code };
    },
    line: '{"source":"secret.png","status":"skipped","reason":"unreadable","detail":"EACCES"}',
    exit: 0,
    intact: async () => {
      const lines = (await nobodyRuns()).insideLines;
      for (let i = 0; i < 5; i++) expect(lineFor(lines, `good-${i}.png`).status).toBe('ok');
    },
  },
  {
    name: 'unreadable sub-folder (chmod 000, run as nobody)',
    observe: async () => ({ line: statusLine(lineFor((await nobodyRuns()).insideLines, 'locked')) }),
    line: '{"source":"locked","status":"skipped","reason":"unreadable","detail":"folder: EACCES"}',
    intact: async () => expect((await nobodyRuns()).insideLines).toHaveLength(7),
  },
  cliCase(
    'source is a file, not a folder or .jsonl',
    () => ['submit', join(base, 'a-file.png'), '--workflow', 'wf'],
    () =>
      `rfbatch: source "${join(base, 'a-file.png')}" is a file, not a folder — give the folder that holds the images, or a .jsonl references file`,
    2,
  ),

  // Files in the folder: each reported, the rest of the folder processed.
  fileCase(
    '0 bytes',
    'zero.png',
    '{"source":"zero.png","status":"skipped","reason":"empty","detail":"0 bytes"}',
  ),
  fileCase(
    'truncated PNG',
    'truncated.png',
    '{"source":"truncated.png","status":"failed","reason":"could not decode image: unknown format or truncated header"}',
  ),
  fileCase(
    'over the 20 MiB image limit',
    'huge.png',
    '{"source":"huge.png","status":"skipped","reason":"too-large","detail":"26214668 bytes, over the 20971520-byte limit for one image"}',
  ),
  fileCase(
    'a .jpg that is text',
    'text.jpg',
    '{"source":"text.jpg","status":"skipped","reason":"not-media","detail":"content is not JPEG data (extension .jpg)"}',
  ),
  fileCase(
    'symlink loop',
    'loop-a.png',
    '{"source":"loop-a.png","status":"skipped","reason":"symlink-loop","detail":"the link resolves to itself"}',
  ),
  fileCase(
    'symlink to a folder above',
    'sub/up',
    '{"source":"sub/up","status":"skipped","reason":"symlink-loop","detail":"links to a folder above it"}',
  ),
  fileCase(
    'dangling symlink',
    'dangling.png',
    '{"source":"dangling.png","status":"skipped","reason":"unreadable","detail":"broken symbolic link"}',
  ),
  fileCase('a FIFO named .png', 'fifo.png', '{"source":"fifo.png","status":"skipped","reason":"not-a-file"}'),
  fileCase(
    'name with a newline',
    'new\nline.png',
    '{"source":"new\\nline.png","status":"ok"}',
    safeRemoteName,
  ),
  fileCase('name with ".."', '..dots...png', '{"source":"..dots...png","status":"ok"}', safeRemoteName),
  fileCase(
    'very long name (250 bytes)',
    `${'long-name-'.repeat(24)}end.png`,
    `{"source":"${'long-name-'.repeat(24)}end.png","status":"ok"}`,
    safeRemoteName,
  ),
  fileCase('unicode name', 'ünïcödé 画像.png', '{"source":"ünïcödé 画像.png","status":"ok"}', safeRemoteName),

  // References files.
  {
    name: 'references: a line that is not JSON',
    observe: async () => ({ line: statusLine(lineFor((await referencesRun()).lines, 'line 1')) }),
    line: '{"source":"line 1","status":"skipped","reason":"bad-name","detail":"not a JSON object"}',
    intact: async () => {
      const { lines } = await referencesRun();
      for (let i = 0; i < 4; i++) expect(lineFor(lines, `ref-${i}.png`).status).toBe('ok');
    },
  },
  {
    name: 'references: a non-http(s) URL',
    observe: async () => ({ line: statusLine(lineFor((await referencesRun()).lines, 'line 2')) }),
    line: '{"source":"line 2","status":"skipped","reason":"bad-name","detail":"needs an http(s) \\"url\\""}',
    intact: async () => expect((await referencesRun()).state.counters.results).toBe(4),
  },
  specCase(
    'references URL that is not https',
    { source: { kind: 'references', url: 'http://example.com/refs.jsonl' } },
    'invalid run spec: source.url: must be an https:// URL',
  ),
  {
    name: 'references file missing',
    observe: async () => ({
      line: failedLine(
        await failingRun('bad-refs-missing', { kind: 'references', path: join(base, 'none.jsonl') })(),
      ),
    }),
    line: () => `plan: references file "${join(base, 'none.jsonl')}" does not exist`,
    intact: mixedRestComplete,
  },
  {
    name: 'references: a URL on a host the API does not trust (non-loopback)',
    knownBug:
      'verify (services/jobs/src/verify.processor.ts) counts only shards whose statusType says "error"; a shard "indexed-with-failures" (warning) with failedFiles never delivers them, so the run waits out the whole verify budget (30 min by default) and then fails saying "no shard reports an error"',
    observe: async () => {
      const { runId, state } = await unsafeReferencesRun();
      expect(state.status).toBe('completed');
      return {
        line: statusLine(lineFor(await resultLines(runId), 'far.png')).replace(
          /"reason":"[^"]*unsafe-url-detected[^"]*"/,
          '"reason":"unsafe-url-detected"',
        ),
      };
    },
    line: '{"source":"far.png","status":"failed","reason":"unsafe-url-detected"}',
    intact: async () =>
      expect(statusLine(lineFor(await resultLines('bad-refs-unsafe'), 'near.png'))).toBe(
        '{"source":"near.png","status":"ok"}',
      ),
  },

  // API answers.
  {
    name: 'API 401: a wrong API key (rfbatch run)',
    observe: async () => {
      await images(join(base, 'key'), 3, 'key');
      const res = await cli(
        [
          'run',
          join(base, 'key'),
          '--workflow',
          'wf',
          '--local',
          '--run-id',
          'bad-401',
          '--out',
          join(base, 'out-401'),
        ],
        cliEnv({ ROBOFLOW_API_KEY: 'a-wrong-key' }),
      );
      return { line: reason(res), exit: res.code };
    },
    line: 'rfbatch: run bad-401 failed at plan: preflight failed before any upload: the API refused the API key (401) while discovering the workspace of the API key — set ROBOFLOW_API_KEY to the private API key of the workspace (Roboflow app → Settings → API Keys); retry with `rfbatch retry bad-401`',
    exit: 1,
    intact: async () => expect(strict.state().batches.map((b) => b.batchId)).not.toContain('rfb-bad-401'),
  },
  cliCase(
    'API 401: a wrong API key (rfbatch jobs ls)',
    () => ['jobs', 'ls'],
    'rfbatch: GET / answered 401: invalid api_key — check ROBOFLOW_API_KEY: it must be the private API key of the workspace (Roboflow app → Settings → API Keys)',
    3,
    { ROBOFLOW_API_KEY: 'a-wrong-key' },
  ),
  {
    name: 'API 402: batch processing not enabled; a retry completes',
    observe: async () => ({ line: failedLine((await paymentRun()).failed) }),
    line: 'plan: preflight failed before any upload: batch processing is not enabled for workspace "local": it needs a Growth or Enterprise plan',
    intact: async () => {
      const { failed, batchesAtFailure, retried, lines } = await paymentRun();
      nothingUploaded(failed, batchesAtFailure);
      expect(retried.status).toBe('completed');
      expect(lines.filter((l) => l.status === 'ok')).toHaveLength(3);
    },
  },
  cliCase(
    'API 404: an unknown job',
    () => ['jobs', 'show', 'no-such-job'],
    'rfbatch: GET /batch-processing/v1/external/local/jobs/no-such-job answered 404: job "no-such-job" not found — check that job "no-such-job" exists in workspace "local" (staged data expires after 7 days)',
    4,
  ),
  cliCase(
    'API 404: an unknown batch',
    () => ['batches', 'count', 'no-such-batch'],
    'rfbatch: GET /data-staging/v1/external/local/batches/no-such-batch/count answered 404: batch "no-such-batch" not found — check that batch "no-such-batch" exists in workspace "local" (staged data expires after 7 days)',
    4,
  ),
  {
    name: 'API 409: a job id taken by another job',
    observe: async () => ({ line: failedLine((await conflictRuns()).second) }),
    line: 'plan: preflight failed before any upload: job id "bad-input-409" is taken by a job with a different definition (batch "rfb-bad-409-a", Workflow "wf-test"); starting this run\'s job would answer 409',
    intact: async () => {
      const { first, second, firstLines } = await conflictRuns();
      nothingUploaded(second);
      expect(first.status).toBe('completed');
      expect(firstLines.filter((l) => l.status === 'ok')).toHaveLength(3);
    },
  },
  {
    name: 'API 500 (not retried, as the official client); a retry completes',
    observe: async () => ({ line: failedLine((await serverErrorRun()).failed) }),
    line: 'plan: preflight failed before any upload: the API could not be asked while checking that the workspace can run batch jobs: GET /batch-processing/v1/external/local/jobs answered 500: server error (injected fault) — the API failed on this request; if it persists, check status.roboflow.com or contact Roboflow support',
    intact: async () => {
      const { failed, batchesAtFailure, retried, lines } = await serverErrorRun();
      nothingUploaded(failed, batchesAtFailure);
      expect(retried.status).toBe('completed');
      expect(lines.filter((l) => l.status === 'ok')).toHaveLength(3);
    },
  },

  // Webhook bodies (with the right path secret and header).
  ...(
    [
      [
        'empty body',
        '',
        400,
        '{"error":{"code":"webhooks.invalid","message":"not a Roboflow notification: (root): Invalid input: expected object, received undefined"}}',
      ],
      [
        'huge body (70 KB)',
        JSON.stringify({
          type: 'roboflow-batch-job-notification-v1',
          event_id: 'e-huge',
          job_id: 'x',
          job_state: 'success',
          delivery_attempt: 1,
          pad: 'x'.repeat(70_000),
        }),
        413,
        '{"error":{"code":"FST_ERR_CTP_BODY_TOO_LARGE","message":"Request body is too large"}}',
      ],
      [
        'not JSON',
        'hello, this is not JSON',
        400,
        '{"error":{"code":"request.invalid_json","message":"the body is not JSON: Unexpected token \'h\', \\"hello, thi\\"... is not valid JSON"}}',
      ],
      [
        'JSON that is no notification',
        '{"type":"something-else","event_id":"e1"}',
        400,
        '{"error":{"code":"webhooks.invalid","message":"not a Roboflow notification: type: Invalid discriminator value. Expected \'roboflow-batch-job-notification-v1\' | \'roboflow-data-staging-notification-v1\'"}}',
      ],
      [
        'for an unknown job',
        JSON.stringify({
          type: 'roboflow-batch-job-notification-v1',
          event_id: 'e-unknown-job',
          job_id: 'nobody-knows',
          job_state: 'success',
          delivery_attempt: 1,
        }),
        200,
        '{"ok":true,"action":"ignored","reason":"no run knows job \\"nobody-knows\\""}',
      ],
    ] as const
  ).map(([name, body, status, answer]): Case => ({
    name: `webhook: ${name}`,
    observe: async () => {
      const res = await webhook(body);
      return { line: `${res.status} ${res.body}` };
    },
    line: `${status} ${answer}`,
    intact: gatewayIntact,
  })),
  {
    name: 'webhook: wrong Authorization header',
    observe: async () => {
      const res = await webhook('{}', { authorization: 'Bearer rf_another-workspace' });
      return { line: `${res.status} ${res.body}` };
    },
    line: '401 {"error":{"code":"webhooks.unauthorized","message":"missing or wrong \\"Authorization: Bearer rf_<workspace>\\" header"}}',
    intact: gatewayIntact,
  },
  {
    name: 'webhook: wrong path secret',
    observe: async () => {
      const res = await webhook('{}', {}, 'not-the-webhook-secret');
      return { line: `${res.status} ${res.body}` };
    },
    line: '403 {"error":{"code":"webhooks.forbidden","message":"wrong webhook path"}}',
    intact: gatewayIntact,
  },

  // The gateway's token.
  {
    name: 'gateway: no token',
    observe: async () => {
      const res = await http('/runs', { token: null });
      return { line: `${res.status} ${res.body}` };
    },
    line: '401 {"error":{"code":"auth.required","message":"send \\"Authorization: Bearer <RFBATCH_GATEWAY_TOKEN>\\""}}',
    intact: gatewayIntact,
  },
  {
    name: 'gateway: a wrong token (submitting a run)',
    observe: async () => {
      const res = await http('/runs', {
        method: 'POST',
        token: 'not-the-token',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(spec({}, 'bad-gw-wrong-token')),
      });
      return { line: `${res.status} ${res.body}` };
    },
    line: '401 {"error":{"code":"auth.required","message":"send \\"Authorization: Bearer <RFBATCH_GATEWAY_TOKEN>\\""}}',
    intact: async () => {
      await nothingSubmitted('bad-gw-wrong-token');
      await gatewayIntact();
    },
  },
  {
    name: 'gateway: Bull Board without a token',
    observe: async () => {
      const res = await http('/board/api/queues', { token: null });
      return { line: `${res.status} ${res.body}` };
    },
    line: '401 {"error":{"code":"auth.required","message":"open /board?token=<token> once, or send \\"Authorization: Bearer <token>\\""}}',
    intact: gatewayIntact,
  },
  {
    name: 'gateway: POST /runs with a bad RunSpec',
    observe: async () => {
      const res = await http('/runs', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(spec({ compute: { workersPerMachine: 0 } }, 'bad-gw-spec')),
      });
      return {
        line: `${res.status} ${(JSON.parse(res.body) as { error: { message: string } }).error.message}`,
      };
    },
    line: '400 invalid RunSpec: compute.workersPerMachine: Too small: expected number to be >=1',
    intact: async () => {
      await nothingSubmitted('bad-gw-spec');
      await gatewayIntact();
    },
  },

  // Export archives from the job output (the emulator's malicious-export fault).
  ...(
    [
      [
        'path traversal',
        'traversal',
        'download: export archive "results/export-00001.tar.gz" was refused at entry "../../rfbatch-escape.txt": the path climbs out with ".."',
      ],
      [
        'absolute path',
        'absolute',
        'download: export archive "results/export-00001.tar.gz" was refused at entry "/tmp/rfbatch-absolute.txt": absolute path',
      ],
      [
        'symbolic link',
        'symlink',
        'download: export archive "results/export-00001.tar.gz" was refused at entry "results-link": symlink to "/etc/passwd"',
      ],
      [
        'decompression bomb',
        'bomb',
        'download: export archive "results/export-00001.tar.gz" was refused at entry "bomb.bin": it expands beyond',
      ],
    ] as const
  ).map(([name, kind, line]): Case => {
    const run = maliciousRun(kind);
    return {
      name: `export archive: ${name}`,
      // The bomb's numbers depend on gzip; its line is compared up to them.
      observe: async () => ({
        line:
          kind === 'bomb'
            ? failedLine((await run()).state).replace(/ beyond .*$/, ' beyond')
            : failedLine((await run()).state),
      }),
      line,
      intact: async () => {
        const { out, state } = await run();
        expect(state.status).toBe('failed');
        expect(state.error?.code).toBe('archive.unsafe');
        await nothingEscaped(out);
      },
    };
  }),
];

describe('bad input', () => {
  it('has at least 30 cases, with unique names', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });

  it.each(cases.map((c) => [c.name, c] as const))(
    '%s',
    async (_name, c) => {
      const check = async () => {
        const got = await c.observe();
        expect(got.line).toBe(typeof c.line === 'function' ? c.line() : c.line);
        if (c.exit !== undefined) expect(got.exit).toBe(c.exit);
        await c.intact();
      };
      if (!c.knownBug) return check();
      const outcome = await check().then(
        () => 'fixed',
        () => 'still there',
      );
      expect(outcome, `known bug appears fixed — remove "knownBug" from "${c.name}": ${c.knownBug}`).toBe(
        'still there',
      );
    },
    300_000,
  );
});
