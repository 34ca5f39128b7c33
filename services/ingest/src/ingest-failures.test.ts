import { appendFile, mkdir, open, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ManifestEntry,
  readJsonLines,
  runPaths,
  SkippedEntry,
  stageJobId,
  uploadToSignedUrl,
  ValidationError,
} from '@rfbatch/shared';
import { pngBytes } from '@rfbatch/testkit/images';
import { startHarness, type Harness } from '@rfbatch/testkit/ingest-harness';
import { writeTree } from '@rfbatch/testkit/source-tree';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function skippedOf(harness: Harness, runId: string): Promise<SkippedEntry[]> {
  const out: SkippedEntry[] = [];
  for await (const s of readJsonLines(runPaths(harness.workDir, runId).skipped, SkippedEntry)) out.push(s);
  return out.sort((a, b) => a.source.localeCompare(b.source));
}

describe('bad input: a clear error or report line, and nothing else lost', () => {
  it('fails a run whose folder is missing, at once and without retries', async () => {
    h = await startHarness();
    const missing = join(h.dir, 'no-such-folder');
    const runId = await h.submit(h.spec({ kind: 'directory', path: missing }));
    const state = await h.waitFor(runId, ['failed']);
    expect(state.failedStage).toBe('plan');
    expect(state.error).toMatchObject({
      code: 'source.invalid',
      message: `folder "${missing}" does not exist`,
    });
    expect(state.error?.hint).toContain('shared storage');
    await expect
      .poll(async () => (await h!.ctx.queues.ingest.getJob(stageJobId('plan', runId)))?.getState())
      .toBe('failed');
    const plan = await h.ctx.queues.ingest.getJob(stageJobId('plan', runId));
    expect(plan?.attemptsMade).toBe(1);
  });

  it('fails an empty folder and a folder of non-images, saying what was skipped', async () => {
    h = await startHarness();
    const empty = join(h.dir, 'empty');
    await mkdir(empty);
    const docs = join(h.dir, 'docs');
    await writeTree(docs, { 'a.txt': 'x', 'b.pdf': '%PDF', 'c.jpg': 'not a jpeg' });
    const [e, d] = await Promise.all([
      h.submit(h.spec({ kind: 'directory', path: empty })),
      h.submit(h.spec({ kind: 'directory', path: docs })),
    ]);
    expect((await h.waitFor(e, ['failed'])).error?.message).toBe(
      `folder "${empty}" has no images to upload (it is empty)`,
    );
    const state = await h.waitFor(d, ['failed']);
    expect(state.error?.message).toMatch(
      new RegExp(
        `^folder "${docs}" has no images to upload: 3 skipped \\(3 not-media\\); see .*skipped\\.jsonl$`,
      ),
    );
    expect((await skippedOf(h, d)).map((s) => s.source)).toEqual(['a.txt', 'b.pdf', 'c.jpg']);
  });

  it('skips a 0-byte image, an unreadable file, a 25 MiB image and a symlink loop, and ingests the rest', async () => {
    h = await startHarness();
    const src = join(h.dir, 'src');
    await writeTree(
      src,
      Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`ok/${i}.png`, pngBytes(i)])),
    );
    await writeFile(join(src, 'zero.png'), Buffer.alloc(0));
    const big = await open(join(src, 'huge.png'), 'w');
    await big.write(pngBytes(1));
    await big.truncate(25 * 1024 * 1024);
    await big.close();
    await symlink('..', join(src, 'ok', 'loop'));
    // As root every file is readable, so a dangling link stands in for an unreadable file there.
    if (process.getuid?.() === 0) await symlink(join(src, 'gone.png'), join(src, 'unreadable.png'));
    else {
      await writeFile(join(src, 'unreadable.png'), pngBytes(2));
      const { chmod } = await import('node:fs/promises');
      await chmod(join(src, 'unreadable.png'), 0o000);
    }
    const runId = await h.submit(h.spec({ kind: 'directory', path: src }));
    const state = await h.waitFor(runId, ['verifying']);
    expect(state.counters).toMatchObject({ planned: 40, expected: 40, skipped: 4, sourceFiles: 44 });
    const skipped = await skippedOf(h, runId);
    expect(skipped.map((s) => [s.source, s.reason])).toEqual([
      ['huge.png', 'too-large'],
      ['ok/loop', 'symlink-loop'],
      ['unreadable.png', 'unreadable'],
      ['zero.png', 'empty'],
    ]);
    expect(state.warnings[0]).toMatch(
      /^4 source file\(s\) skipped \(.*\); the full list is in .*skipped\.jsonl$/,
    );
    expect(state.warnings).toContain('skipped "zero.png": empty (0 bytes)');
    const spec = await h.ctx.store.spec(runId);
    expect(await h.ctx.client.countBatch(spec.batchId)).toBe(40);
  });

  it('fails the shard (and the run) naming a file that grows during the upload, and uploads no corrupt tar', async () => {
    const src = { dir: '' };
    h = await startHarness({
      ingest: {
        // Grows the last file of the shard once the tar has started to flow.
        upload: async (details, body, length, opts) => {
          let grown = false;
          const grow = new Transform({
            transform(chunk: Buffer, _e, cb) {
              if (grown) return cb(null, chunk);
              grown = true;
              appendFile(join(src.dir, 'z-last.png'), 'more bytes').then(() => cb(null, chunk), cb);
            },
          });
          body.once('error', (error) => grow.destroy(error));
          return uploadToSignedUrl(details, body.pipe(grow), length, opts);
        },
      },
    });
    src.dir = join(h.dir, 'src');
    const files: Record<string, Buffer> = {};
    // 50 files: one shard (its size fixed at 64), whose last file grows.
    for (let i = 0; i < 49; i++) files[`a-${String(i).padStart(2, '0')}.png`] = pngBytes(i);
    files['z-last.png'] = pngBytes('last');
    await writeTree(src.dir, files);
    const runId = await h.submit(
      h.spec({ kind: 'directory', path: src.dir }, { upload: { shardMaxImages: 64 } }),
    );
    const state = await h.waitFor(runId, ['failed']);
    expect(state.failedStage).toBe('upload');
    expect(state.error?.message).toMatch(
      /^shard 0: "z-last\.png" changed size (since planning|while it was read) \(planned \d+ bytes, now \d+\); its shard was not uploaded$/,
    );
    const spec = await h.ctx.store.spec(runId);
    expect(h.emulator.state().batches.find((b) => b.batchId === spec.batchId)?.count ?? 0).toBe(0);
    // The parent was woken by the failed child and failed too: nothing waits forever.
    await expect
      .poll(async () => (await h!.ctx.queues.ingest.getJob(stageJobId('plan', runId)))?.getState())
      .toBe('failed');
  });

  it('rejects an invalid batch id when the run is submitted', async () => {
    h = await startHarness({ startService: false });
    const error = await h
      .submit(h.spec({ kind: 'directory', path: h.dir }, { batchId: 'Bad Batch!' }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).problems).toEqual([
      { path: 'batchId', message: expect.stringContaining('batch id "Bad Batch!" breaks the rule') },
    ]);
  });

  it('fails fast on a wrong API key, before scanning or uploading, without retries', async () => {
    h = await startHarness({
      emulator: { apiKeys: ['the-right-key'] },
      env: { ROBOFLOW_API_KEY: 'a-wrong-key' },
    });
    const src = join(h.dir, 'src');
    await writeTree(src, { 'a.png': pngBytes(1) });
    const runId = await h.submit(h.spec({ kind: 'directory', path: src }));
    const state = await h.waitFor(runId, ['failed'], 10_000);
    expect(state.failedStage).toBe('plan');
    expect(state.error?.code).toBe('api.unauthorized');
    expect(JSON.stringify(state)).not.toContain('a-wrong-key');
    await expect
      .poll(async () => (await h!.ctx.queues.ingest.getJob(stageJobId('plan', runId)))?.getState())
      .toBe('failed');
    const plan = await h.ctx.queues.ingest.getJob(stageJobId('plan', runId));
    expect(plan?.attemptsMade).toBe(1);
    expect(
      await readJsonLines(runPaths(h.workDir, runId).manifest, ManifestEntry)
        .next()
        .catch(() => 'no manifest'),
    ).toBe('no manifest');
  });

  it('fails a malformed intake payload at once with the field errors', async () => {
    h = await startHarness();
    const job = await h.ctx.queues.runs.add(
      'intake',
      { spec: { source: { kind: 'directory' }, workflow: {} } },
      { jobId: 'bad-intake' },
    );
    await expect.poll(() => job.getState(), { timeout: 10_000 }).toBe('failed');
    const failed = await h.ctx.queues.runs.getJob('bad-intake');
    expect(failed?.attemptsMade).toBe(1);
    expect(failed?.failedReason).toMatch(
      /^malformed runs\/intake job bad-intake: .*spec\.source\.path.*spec\.output/,
    );
  });
});
