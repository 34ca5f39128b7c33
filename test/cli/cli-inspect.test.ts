/**
 * The inspection commands against the emulator (pages of 2, so every listing spans pages): each
 * asserts the exact requests the official client sends for the same command (method, path, query) and
 * the `--json` output. `batches content` (list-batch-content), per-part counts in `batches show`, the
 * page options of every listing, `jobs logs -o` over every page, `batches export --override-existing`.
 */
import { lstat, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '@rfbatch/emulator';
import {
  createRoboflowClient,
  uploadToSignedUrl,
  type ClosableRoboflowClient,
  type JobBody,
} from '@rfbatch/shared';
import { imageJobBody } from '@rfbatch/testkit/emulator';
import { pngBytes } from '@rfbatch/testkit/images';
import { makeTar } from '@rfbatch/testkit/tars';
import { waitFor } from '@rfbatch/testkit/wait-for';
import { cli } from './cli-harness.js';

const DS = '/data-staging/v1/external/local';
const BP = '/batch-processing/v1/external/local';
const IMAGES = 5;
const JOB = 'job-inspect';
const SHARDS = 3;

let emulator: Emulator;
let client: ClosableRoboflowClient;
let env: Record<string, string>;
let dir: string;

/** The API requests since the last clear, without the workspace discovery. */
const requests = () =>
  emulator
    .requests()
    .filter((r) => r.path !== '/')
    .map((r) => ({ method: r.method, path: r.path, query: r.query }));
const json = (stdout: string) => JSON.parse(stdout) as Record<string, unknown>;
const jsonl = async (file: string) =>
  (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

beforeAll(async () => {
  emulator = await startEmulator({
    pageSize: 2,
    indexingDelayMs: 0,
    jobStartDelayMs: 0,
    processingMsPerItem: 1,
  });
  client = createRoboflowClient({ apiUrl: emulator.url, apiKey: 'inspect-key', workspace: 'local' });
  env = { ROBOFLOW_API_URL: emulator.url, ROBOFLOW_API_KEY: 'inspect-key', LOG_LEVEL: 'error' };
  dir = await mkdtemp(join(tmpdir(), 'rfbatch-inspect-'));
  for (let i = 0; i < IMAGES; i++) {
    const bytes = pngBytes(`inspect-${i}`);
    await client.uploadImage('inspect-in', `img-${i}.png`, {
      stream: () => Readable.from([bytes]),
      size: bytes.length,
    });
  }
  for (let s = 0; s < SHARDS; s++) {
    const tar = await makeTar([{ name: `s${s}.png`, data: pngBytes(`shard-${s}`) }]);
    await uploadToSignedUrl(
      await client.requestShardUploadUrl('inspect-sharded'),
      Readable.from([tar]),
      tar.length,
    );
  }
  await client.startJob(JOB, imageJobBody('inspect-in') as JobBody);
  await waitFor(
    async () => ((await client.getJob(JOB)).state.terminal ? true : undefined),
    30_000,
    `job ${JOB} to end`,
  );
}, 60_000);
afterAll(async () => {
  await client.close();
  await emulator.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => emulator.clearRequests());

describe('batches content (list-batch-content)', () => {
  it('reads every page of a simple batch: GET /batches/B, then /list with the echoed token, no URLs printed', async () => {
    const r = await cli(['batches', 'content', 'inspect-in', '--json'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = json(r.stdout) as { batchId: string; files: Array<Record<string, unknown>> };
    expect(out.batchId).toBe('inspect-in');
    expect(out.files.map((f) => f.fileName).sort()).toEqual(
      Array.from({ length: IMAGES }, (_, i) => `img-${i}.png`),
    );
    expect(r.stdout).not.toMatch(/downloadURL|_storage|sig=/);
    const reqs = requests();
    expect(reqs[0]).toEqual({ method: 'GET', path: `${DS}/batches/inspect-in`, query: {} });
    const lists = reqs.slice(1);
    expect(lists).toHaveLength(3); // 5 files in pages of 2
    expect(lists.every((q) => q.method === 'GET' && q.path === `${DS}/batches/inspect-in/list`)).toBe(true);
    expect(lists[0]!.query).toEqual({});
    expect(lists[1]!.query.nextPageToken).toBeTruthy();
    expect(lists[2]!.query.nextPageToken).toBeTruthy();
    expect(lists[2]!.query.nextPageToken).not.toBe(lists[1]!.query.nextPageToken);
  });

  it('--limit stops paging once reached; --page-size is sent as pageSize', async () => {
    const r = await cli(
      ['batches', 'content', 'inspect-in', '--limit', '3', '--page-size', '1', '--json'],
      env,
    );
    expect(r.code).toBe(0);
    expect((json(r.stdout).files as unknown[]).length).toBe(3);
    const lists = requests().filter((q) => q.path.endsWith('/list'));
    expect(lists).toHaveLength(3);
    expect(lists.every((q) => q.query.pageSize === '1')).toBe(true);
  });

  it('a multipart batch is listed part by part (partName on every page); -o writes JSONL', async () => {
    const out = join(dir, 'sub', 'content.jsonl');
    const r = await cli(['batches', 'content', `${JOB}-processing`, '-o', out, '--json'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = await jsonl(out);
    expect(json(r.stdout)).toEqual({ batchId: `${JOB}-processing`, out, files: lines.length });
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((l) => l.partName === 'results' && !('downloadURL' in l))).toBe(true);
    const reqs = requests();
    expect(reqs.slice(0, 2)).toEqual([
      { method: 'GET', path: `${DS}/batches/${JOB}-processing`, query: {} },
      { method: 'GET', path: `${DS}/batches/${JOB}-processing/parts`, query: {} },
    ]);
    expect(reqs[2]).toEqual({
      method: 'GET',
      path: `${DS}/batches/${JOB}-processing/list`,
      query: { partName: 'results' },
    });
    expect((await stat(out)).mode & 0o777).toBe(0o644);
  });

  it('--with-urls writes the signed URLs only into the -o file, made 0600; without -o it is refused', async () => {
    const out = join(dir, 'with-urls.jsonl');
    const r = await cli(['batches', 'content', 'inspect-in', '-o', out, '--with-urls'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${IMAGES} files of batch inspect-in listed in ${out}\n`);
    const lines = await jsonl(out);
    expect(
      lines.every((l) => typeof l.downloadURL === 'string' && l.downloadURL.startsWith(emulator.url)),
    ).toBe(true);
    expect((await stat(out)).mode & 0o777).toBe(0o600);
    const refused = await cli(['batches', 'content', 'inspect-in', '--with-urls'], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--with-urls needs --out <file>');
  });

  it('-o replaces a link planted at the path (never writes through it), and keeps 0600 with --with-urls', async () => {
    const outside = join(dir, 'outside.txt');
    await writeFile(outside, 'precious\n', { mode: 0o644 });
    const out = join(dir, 'planted.jsonl');
    await symlink(outside, out);
    const r = await cli(['batches', 'content', 'inspect-in', '-o', out, '--with-urls', '--json'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await readFile(outside, 'utf8')).toBe('precious\n');
    expect((await stat(outside)).mode & 0o777).toBe(0o644);
    expect((await lstat(out)).isSymbolicLink()).toBe(false);
    expect((await stat(out)).mode & 0o777).toBe(0o600);
    expect(await jsonl(out)).toHaveLength(IMAGES);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('--part on a simple batch, and an unknown part, are errors naming what there is', async () => {
    const simple = await cli(['batches', 'content', 'inspect-in', '--part', 'x'], env);
    expect(simple.code).toBe(2);
    expect(simple.stderr).toContain('batch inspect-in is a simple-batch, not a multipart-batch');
    const unknown = await cli(['batches', 'content', `${JOB}-processing`, '--part', 'nope'], env);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toContain(`batch ${JOB}-processing has no part "nope"; its parts: results`);
  });
});

describe('batches show', () => {
  it('counts a multipart batch part by part (GET /count?partName=), as show-batch-details', async () => {
    const r = await cli(['batches', 'show', `${JOB}-export`, '--json'], env);
    expect(r.code).toBe(0);
    const view = json(r.stdout) as { parts: Array<{ partName: string; count: number }>; count?: number };
    const sent = requests().filter((q) => q.path.endsWith('/count'));
    const expected = await client.countBatch(`${JOB}-export`, { partName: 'results' });
    expect(view.parts).toEqual([expect.objectContaining({ partName: 'results', count: expected })]);
    expect(expected).toBeGreaterThan(0);
    expect(view.count).toBeUndefined();
    expect(sent).toEqual([
      { method: 'GET', path: `${DS}/batches/${JOB}-export/count`, query: { partName: 'results' } },
    ]);
    const text = await cli(['batches', 'show', `${JOB}-export`], env);
    expect(text.stdout).toMatch(new RegExp(`part +results \\(simple-part, archives\\) +${expected} items`));
  });

  it('a simple batch shows its one count', async () => {
    const r = await cli(['batches', 'show', 'inspect-in', '--json'], env);
    expect(json(r.stdout)).toMatchObject({ parts: [], count: IMAGES });
  });
});

describe('page options on the listings', () => {
  it('jobs ls --max-pages 1 reads one page; --all every page; both together are refused', async () => {
    await client.startJob('job-inspect-2', imageJobBody('inspect-in', { workflowId: 'other' }) as JobBody);
    await client.startJob('job-inspect-3', imageJobBody('inspect-in', { workflowId: 'third' }) as JobBody);
    emulator.clearRequests();
    const one = await cli(['jobs', 'ls', '--max-pages', '1', '--json'], env);
    expect(one.code).toBe(0);
    expect((json(one.stdout).jobs as unknown[]).length).toBe(2);
    expect(requests()).toEqual([{ method: 'GET', path: `${BP}/jobs`, query: {} }]);

    emulator.clearRequests();
    const all = await cli(['jobs', 'ls', '--all', '--page-size', '2', '--json'], env);
    expect((json(all.stdout).jobs as Array<{ jobId: string }>).map((j) => j.jobId).sort()).toEqual([
      'job-inspect',
      'job-inspect-2',
      'job-inspect-3',
    ]);
    const pages = requests();
    expect(pages).toHaveLength(2);
    expect(pages[0]!.query).toEqual({ pageSize: '2' });
    expect(pages[1]!.query).toEqual({ pageSize: '2', nextPageToken: expect.any(String) });

    const both = await cli(['jobs', 'ls', '--all', '--max-pages', '2'], env);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--all reads every page: leave out --max-pages');
    const bad = await cli(['batches', 'ls', '--page-size', '0'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--page-size must be a positive whole number (got "0")');
  });

  it('batches ls, batches shards and jobs tasks take the same options', async () => {
    const ls = await cli(['batches', 'ls', '--max-pages', '1', '--page-size', '1', '--json'], env);
    expect((json(ls.stdout).batches as unknown[]).length).toBe(1);
    expect(requests()).toEqual([{ method: 'GET', path: `${DS}/batches`, query: { pageSize: '1' } }]);
    emulator.clearRequests();
    const shards = await cli(['batches', 'shards', 'inspect-in', '--all', '--json'], env);
    expect(shards.code).toBe(0);
    expect(requests()[0]).toEqual({ method: 'GET', path: `${DS}/batches/inspect-in/shards`, query: {} });
    emulator.clearRequests();
    const tasks = await cli(['jobs', 'tasks', JOB, 'processing', '--page-size', '5', '--json'], env);
    expect(tasks.code).toBe(0);
    expect(requests()).toContainEqual({
      method: 'GET',
      path: `${BP}/jobs/${JOB}/stages/processing/tasks`,
      query: { pageSize: '5' },
    });
  });
});

describe('batches shards -o (list-ingest-details -o)', () => {
  it('writes every shard of every page into JSONL', async () => {
    await waitFor(
      async () => ((await client.countBatch('inspect-sharded')) === SHARDS ? true : undefined),
      10_000,
    );
    emulator.clearRequests();
    const out = join(dir, 'ingest.jsonl');
    const r = await cli(['batches', 'shards', 'inspect-sharded', '-o', out, '--json'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(json(r.stdout)).toEqual({ batchId: 'inspect-sharded', out, shards: SHARDS });
    const lines = await jsonl(out);
    expect(lines.map((l) => l.shardObjectsCount)).toEqual([1, 1, 1]);
    const pages = requests();
    expect(pages).toHaveLength(2); // 3 shards in pages of 2
    expect(pages[0]).toEqual({ method: 'GET', path: `${DS}/batches/inspect-sharded/shards`, query: {} });
    expect(pages[1]!.query).toEqual({ nextPageToken: expect.any(String) });
  });
});

describe('jobs logs -o', () => {
  it('writes every page into JSONL (severity sent as the official --log-severity does)', async () => {
    const all = [];
    for await (const l of client.listLogs(JOB)) all.push(l);
    expect(all.length).toBeGreaterThan(2); // more than one page of 2
    emulator.clearRequests();
    const out = join(dir, 'logs.jsonl');
    const r = await cli(['jobs', 'logs', JOB, '-o', out, '--json'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(json(r.stdout)).toEqual({ jobId: JOB, out, logs: all.length });
    expect(await jsonl(out)).toEqual(JSON.parse(JSON.stringify(all)));
    const pages = requests();
    expect(pages).toHaveLength(Math.ceil(all.length / 2));
    expect(pages.every((q) => q.path === `${BP}/jobs/${JOB}/logs`)).toBe(true);

    emulator.clearRequests();
    const info = await cli(['jobs', 'logs', JOB, '--severity', 'info', '-o', out], env);
    expect(info.code).toBe(0);
    expect(requests()[0]).toEqual({
      method: 'GET',
      path: `${BP}/jobs/${JOB}/logs`,
      query: { severity: 'info' },
    });
  });
});

describe('batches export --override-existing', () => {
  it('keeps a file already there by default, downloads it again with --override-existing', async () => {
    const out = join(dir, 'export');
    const first = await cli(['batches', 'export', 'inspect-in', '-o', out, '--json'], env);
    expect(first.code).toBe(0);
    const target = join(out, 'img-0.png');
    const original = await readFile(target);
    await writeFile(target, 'tampered');

    const kept = await cli(['batches', 'export', 'inspect-in', '-o', out, '--json'], env);
    const keptFiles = json(kept.stdout).files as Array<{ local: string; kept?: boolean; bytes: number }>;
    expect(keptFiles.every((f) => f.kept === true)).toBe(true);
    expect(await readFile(target, 'utf8')).toBe('tampered');

    const again = await cli(
      ['batches', 'export', 'inspect-in', '-o', out, '--override-existing', '--json'],
      env,
    );
    expect(again.code).toBe(0);
    const files = json(again.stdout).files as Array<{ local: string; kept?: boolean; bytes: number }>;
    expect(files).toHaveLength(IMAGES);
    expect(files.some((f) => f.kept)).toBe(false);
    expect(await readFile(target)).toEqual(original);
  });
});

describe('rfbatch --help epilogue', () => {
  it('names the inspection commands, the page options and trt-compile', async () => {
    const r = await cli(['--help'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('list-batch-content / export-batch → rfbatch batches ls|show|content|export');
    expect(r.stdout).toContain('trt-compile → rfbatch jobs ls|show|logs -o|abort|restart|trt-compile');
    expect(r.stdout).toContain('--page-size, --max-pages, --all');
  });
});
