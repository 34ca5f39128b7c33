/**
 * Issue 14, points 2, 3, 4 and 7, through the whole pipeline (ingest, jobs, export), the emulator,
 * real files and the test's private Redis:
 * - 3: a file of exactly MAX_IMAGE_BYTES is uploaded in single-upload mode (the API's documented
 *   limit), and a file the API refuses (413) is one `failed` line while the others get results;
 * - 4: a file name that is not valid UTF-8 is read, uploaded and recorded with its exact bytes;
 * - 7: links planted at the temp and final names of the output files are replaced, never followed;
 * - 2: a second live run into a claimed output folder is refused (at submit and at the worker), and
 *   `--json` never prints another run's summary.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportOutcome, type CliIO } from '@rfbatch/cli';
import { enqueueIntake } from '@rfbatch/run-control';
import {
  MAX_IMAGE_BYTES,
  ManifestEntry,
  OUTPUT_CLAIM_FILE,
  readJsonLines,
  resolveRunSpec,
  runPaths,
  RunSpecSchema,
} from '@rfbatch/shared';
import { pngBytes } from '@rfbatch/testkit/images';
import { writeTree } from '@rfbatch/testkit/source-tree';
import { startStack, type Stack } from '@rfbatch/testkit/stack';

interface Line {
  source: string;
  sourceBytes?: string;
  status: string;
  reason?: string;
}

async function results(dir: string): Promise<Line[]> {
  const text = await readFile(join(dir, 'results.jsonl'), 'utf8');
  return text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Line);
}

/** `n` small PNGs under `<workDir>/<name>`. */
async function smallImages(s: Stack, name: string, n: number): Promise<string> {
  const dir = join(s.workDir, name);
  const files: Record<string, Buffer> = {};
  for (let i = 0; i < n; i++) files[`p-${i}.png`] = pngBytes(`${name}-${i}`);
  await writeTree(dir, files);
  return dir;
}

/** A PNG of exactly `size` bytes (a valid image, then filler after its end). */
function pngOfSize(seed: string, size: number): Buffer {
  const png = pngBytes(seed);
  return Buffer.concat([png, Buffer.alloc(size - png.length, 7)]);
}

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack.close();
});

describe('point 3: the image size limit', () => {
  it(`uploads a file of exactly ${MAX_IMAGE_BYTES} bytes in single-upload mode`, async () => {
    const src = await smallImages(stack, 'limit', 2);
    await writeFile(join(src, 'exact.png'), pngOfSize('exact', MAX_IMAGE_BYTES));
    const runId = await stack.submit({ source: { kind: 'directory', path: src } });
    const state = await stack.waitForRun(runId, 60_000);
    expect(state.error?.message).toBeUndefined();
    expect(state.status).toBe('completed');
    expect(state.uploadMode).toBe('single');
    const lines = await results(join(stack.outputDir, runId));
    expect(lines.map((l) => [l.source, l.status]).sort()).toEqual([
      ['exact.png', 'ok'],
      ['p-0.png', 'ok'],
      ['p-1.png', 'ok'],
    ]);
  });

  it('a file the API refuses is one failed line; the other files get their results', async () => {
    const s = await startStack({ emulator: { maxImageBytes: 64 * 1024 } });
    try {
      const src = await smallImages(s, 'refused', 3);
      await writeFile(join(src, 'big.png'), pngOfSize('big', 100 * 1024));
      const runId = await s.submit({ source: { kind: 'directory', path: src } });
      const state = await s.waitForRun(runId, 60_000);
      expect(state.error?.message).toBeUndefined();
      expect(state.status).toBe('completed');
      expect(state.counters.expected).toBe(3);
      const lines = await results(join(s.outputDir, runId));
      expect(lines).toHaveLength(4);
      const big = lines.find((l) => l.source === 'big.png');
      expect(big?.status).toBe('failed');
      expect(big?.reason).toMatch(/the API refused the upload \(HTTP 413\).*file-size-limit-exceeded/);
      expect(
        lines
          .filter((l) => l.status === 'ok')
          .map((l) => l.source)
          .sort(),
      ).toEqual(['p-0.png', 'p-1.png', 'p-2.png']);
      expect(state.warnings.join('\n')).toMatch(/"big\.png" was not uploaded: the API refused the upload/);
      expect(JSON.stringify(state)).not.toContain(s.config.roboflow.apiKey);
    } finally {
      await s.close();
    }
  });
});

describe('point 4: names that are not valid UTF-8', () => {
  it.each([
    ['single', 2],
    ['shards', 40],
  ] as const)('%s uploads: reads and uploads the file, and records its exact name bytes', async (mode, n) => {
    const src = await smallImages(stack, `bytes-${mode}`, n);
    // "caf\xe9.png" in Latin-1: the byte 0xE9 alone is not UTF-8.
    const raw = Buffer.from('caf\xe9.png', 'latin1');
    await writeFile(Buffer.concat([Buffer.from(`${src}/`), raw]), pngBytes('latin1'));
    const runId = await stack.submit({ source: { kind: 'directory', path: src } });
    const state = await stack.waitForRun(runId, 60_000);
    expect(state.status).toBe('completed');
    expect(state.uploadMode).toBe(mode);
    expect(state.counters.skipped ?? 0).toBe(0);
    const manifest: ManifestEntry[] = [];
    for await (const e of readJsonLines(runPaths(stack.workDir, runId).manifest, ManifestEntry))
      manifest.push(e);
    const odd = manifest.find((e) => e.sourceBytes !== undefined);
    expect(odd?.source).toBe('caf\uFFFD.png');
    expect(Buffer.from(odd?.sourceBytes ?? '', 'base64').equals(raw)).toBe(true);
    const lines = await results(join(stack.outputDir, runId));
    expect(lines).toHaveLength(n + 1);
    expect(lines.every((l) => l.status === 'ok')).toBe(true);
    const line = lines.find((l) => l.sourceBytes !== undefined);
    expect(line?.source).toBe('caf\uFFFD.png');
    expect(Buffer.from(line?.sourceBytes ?? '', 'base64').equals(raw)).toBe(true);
    // Names that are UTF-8 carry no bytes field.
    expect(lines.filter((l) => l.sourceBytes === undefined)).toHaveLength(n);
  });
});

describe('point 7: planted links', () => {
  it('never writes through a link at the temp or final names of results and summary', async () => {
    const src = await smallImages(stack, 'links', 2);
    const runId = `links-${Date.now().toString(36)}`;
    const out = join(stack.outputDir, runId);
    const victims = join(stack.workDir, 'victims');
    await mkdir(out, { recursive: true });
    await mkdir(victims, { recursive: true });
    const planted = ['results.jsonl.tmp', 'summary.json.tmp', 'report.html.tmp', 'summary.json'];
    for (const name of planted) {
      await writeFile(join(victims, name), 'precious\n');
      await symlink(join(victims, name), join(out, name));
    }
    // And in the work dir: the old temp name of downloads.jsonl.
    await mkdir(runPaths(stack.workDir, runId).dir, { recursive: true });
    await writeFile(join(victims, 'downloads'), 'precious\n');
    await symlink(join(victims, 'downloads'), `${runPaths(stack.workDir, runId).downloads}.tmp`);

    await stack.submit({ runId, source: { kind: 'directory', path: src } });
    const state = await stack.waitForRun(runId, 60_000);
    expect(state.status).toBe('completed');
    for (const name of [...planted, 'downloads'])
      expect(await readFile(join(victims, name), 'utf8')).toBe('precious\n');
    // The real files were written, as files (the link at summary.json was replaced, not followed).
    const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8')) as { runId: string };
    expect(summary.runId).toBe(runId);
    expect(await results(out)).toHaveLength(2);
    // No temp file of rfbatch's own is left behind.
    expect((await readdir(out)).filter((n) => n.endsWith('.tmp') && !planted.includes(n))).toEqual([]);
  });
});

describe('point 2: one live run per output folder', () => {
  const io = (out: string[]): CliIO => ({
    stdout: { write: (t: string) => out.push(t) },
    stderr: { write: () => true },
    env: {},
    cwd: '/',
    signal: new AbortController().signal,
  });

  it('two runs started at once into one folder: one runs, the other fails at the worker, naming the first', async () => {
    const s = await startStack({ emulator: { processingMsPerItem: 300 } });
    try {
      const src = await smallImages(s, 'shared', 4);
      const out = join(s.outputDir, 'shared');
      const dir = { kind: 'directory', path: src };
      // The folder does not exist yet (nothing to claim at submit): the intake workers race for it.
      await Promise.all([
        s.submit({ runId: 'shared-a', source: dir, output: { dir: out } }),
        s.submit({ runId: 'shared-b', source: dir, output: { dir: out } }),
      ]);
      const [a, b] = [await s.waitForRun('shared-a', 60_000), await s.waitForRun('shared-b', 60_000)];
      expect([a.status, b.status].sort()).toEqual(['completed', 'failed']);
      const [won, lost] = a.status === 'completed' ? [a, b] : [b, a];
      expect(lost.error?.message).toMatch(
        new RegExp(
          `^output folder ".*shared" is in use by run "${won.runId}" \\(\\w+\\); run "${lost.runId}" would overwrite its results$`,
        ),
      );
      expect(lost.error?.hint).toMatch(/give this run another output folder/);
      expect(lost.counters.planned ?? 0).toBe(0);
      const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8')) as { runId: string };
      expect(summary.runId).toBe(won.runId);
      expect(JSON.parse(await readFile(join(out, OUTPUT_CLAIM_FILE), 'utf8'))).toEqual({ runId: won.runId });
    } finally {
      await s.close();
    }
  });

  it('refuses a run into a folder a live run holds at submit (and at the worker), and takes over once it ended', async () => {
    const s = await startStack({ emulator: { processingMsPerItem: 300 } });
    try {
      const src = await smallImages(s, 'held', 4);
      const out = join(s.outputDir, 'held');
      const dir = { kind: 'directory', path: src };
      await s.submit({ runId: 'held-a', source: dir, output: { dir: out } });
      await s.waitForState('held-a', (st) => st.status !== 'queued' && st.status !== 'planning', 30_000);
      const refusedAtSubmit = await s.submit({ runId: 'held-b', source: dir, output: { dir: out } }).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(refusedAtSubmit?.message).toMatch(/^output folder ".*held" is in use by run "held-a" \(\w+\)/);
      // Recorded as failed, with the same message, and never started.
      const b = await s.ctx.store.require('held-b');
      expect(b.status).toBe('failed');
      expect(b.error?.message).toBe(refusedAtSubmit?.message);

      // At the worker: an intake enqueued without submitRun fails with the same message.
      const spec = resolveRunSpec(
        RunSpecSchema.parse({
          runId: 'held-c',
          source: dir,
          workflow: { workflowId: 'wf-test' },
          output: { dir: out },
        }),
      );
      await enqueueIntake(s.ctx.queues, spec);
      const c = await s.waitForRun('held-c', 20_000);
      expect(c.status).toBe('failed');
      expect(c.error?.message).toMatch(/^output folder ".*held" is in use by run "held-a"/);

      expect((await s.waitForRun('held-a', 60_000)).status).toBe('completed');
      // The first run ended: a new run may take the folder over.
      await s.submit({ runId: 'held-d', source: dir, output: { dir: out } });
      expect((await s.waitForRun('held-d', 60_000)).status).toBe('completed');
      expect(JSON.parse(await readFile(join(out, OUTPUT_CLAIM_FILE), 'utf8'))).toEqual({ runId: 'held-d' });
    } finally {
      await s.close();
    }
  });

  it("--json prints the run's own state, never the summary.json another run left in its folder", async () => {
    const src = await smallImages(stack, 'json', 1);
    const runId = await stack.submit({ source: { kind: 'directory', path: src } });
    const state = await stack.waitForRun(runId, 60_000);
    const dir = join(stack.outputDir, runId);
    const own = await readFile(join(dir, 'summary.json'), 'utf8');
    const printed: string[] = [];
    await reportOutcome(io(printed), stack.ctx.store, state, { json: true });
    expect(printed.join('')).toBe(own);
    // Another run's summary in the folder (as a shared --out left it before claims existed).
    await writeFile(join(dir, 'summary.json'), JSON.stringify({ runId: 'someone-else', counts: {} }));
    printed.length = 0;
    await reportOutcome(io(printed), stack.ctx.store, state, { json: true });
    const shown = JSON.parse(printed.join('')) as { runId: string };
    expect(shown.runId).toBe(runId);
    expect(printed.join('')).not.toContain('someone-else');
    expect(existsSync(join(dir, OUTPUT_CLAIM_FILE))).toBe(true);
  });
});
