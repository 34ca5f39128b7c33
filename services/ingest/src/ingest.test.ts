import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { enqueue, resolveRunSpec, RunSpecSchema, runPaths, stageJobId } from '@rfbatch/shared';
import { fakeMp4, pngBytes } from '@rfbatch/testkit/images';
import { startHarness, type Harness } from '@rfbatch/testkit/ingest-harness';
import { captureLogger } from '@rfbatch/testkit/log-capture';
import { writeTree } from '@rfbatch/testkit/source-tree';
import { startIngest } from './service.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('ingest against the emulator', () => {
  it('stages 1,234 images with colliding, spaced, unicode and very long names, each mapped back', async () => {
    h = await startHarness();
    const src = join(h.dir, 'src');
    const files: Record<string, Buffer> = {};
    const long = 'a-very-long-folder-name-'.repeat(6);
    for (let i = 0; i < 1234; i++) {
      const folder = ['cats', 'dogs/inner', 'ünïcødé 文件夹', `${long}/${long}`][i % 4]!;
      const base =
        i % 3 === 0 ? 'same name.png' : i % 3 === 1 ? `photo ${i}.png` : `${'é'.repeat(40)}-${i}.png`;
      files[`${folder}/${Math.floor(i / 12)}/${base}`] = pngBytes(i);
    }
    await writeTree(src, files);
    const runId = await h.submit(h.spec({ kind: 'directory', path: src }, { runId: 'big-run' }));
    const state = await h.waitFor(runId, ['verifying']);

    expect(state.uploadMode).toBe('shards');
    expect(state.counters).toMatchObject({
      planned: 1234,
      expected: 1234,
      filesUploaded: 1234,
      shardsTotal: 32, // 1,234 images in shards of 64 (the default)
      shardsUploaded: 32,
      skipped: 0,
    });
    const bytes = Object.values(files).reduce((s, b) => s + b.length, 0);
    expect(state.counters.bytesUploaded).toBe(bytes);
    expect(state.counters.bytesTotal).toBe(bytes);

    const spec = await h.ctx.store.spec(runId);
    expect(await h.ctx.client.countBatch(spec.batchId)).toBe(1234);
    const names = await h.batchNames(spec.batchId);
    expect(new Set(names).size).toBe(1234);
    expect(names.every((n) => Buffer.byteLength(n) <= 100 && /^[A-Za-z0-9._-]+$/.test(n))).toBe(true);
    const manifest = await h.manifest(runId);
    expect(new Set(manifest.map((e) => e.name))).toEqual(new Set(names));
    expect(new Set(manifest.map((e) => e.source))).toEqual(new Set(Object.keys(files)));

    // The run moved on to the jobs queue under its deterministic id.
    const verify = await h.ctx.queues.jobs.getJob(stageJobId('verify', runId));
    expect(verify?.data).toEqual({ runId, attempt: 0 });
    expect(await h.ctx.store.runForRemote('batch', spec.batchId)).toBe(runId);
  });

  it('uploads ≤32 images one by one into a simple batch', async () => {
    h = await startHarness();
    const src = join(h.dir, 'src');
    await writeTree(
      src,
      Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`d${i % 2}/x${i >> 1}.png`, pngBytes(i)])),
    );
    const runId = await h.submit(h.spec({ kind: 'directory', path: src }, { upload: { filesPerJob: 6 } }));
    const state = await h.waitFor(runId, ['verifying']);
    expect(state.uploadMode).toBe('single');
    expect(state.counters).toMatchObject({ expected: 20, filesUploaded: 20 });
    const spec = await h.ctx.store.spec(runId);
    expect((await h.ctx.client.getBatch(spec.batchId)).batchType).toBe('simple-batch');
    expect(await h.ctx.client.countBatch(spec.batchId)).toBe(20);
  });

  it('uploads videos through signed URLs', async () => {
    h = await startHarness();
    const src = join(h.dir, 'videos');
    await writeTree(
      src,
      Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`v/clip ${i}.mp4`, fakeMp4(64 * 1024, i)])),
    );
    const runId = await h.submit(
      h.spec({ kind: 'directory', path: src, media: 'videos' }, { upload: { filesPerJob: 2 } }),
    );
    const state = await h.waitFor(runId, ['verifying']);
    expect(state.uploadMode).toBe('videos');
    expect(state.counters).toMatchObject({ expected: 5, filesUploaded: 5, bytesUploaded: 5 * 64 * 1024 });
    const spec = await h.ctx.store.spec(runId);
    expect(await h.ctx.client.countBatch(spec.batchId)).toBe(5);
    expect((await h.batchNames(spec.batchId)).sort()).toEqual(
      (await h.manifest(runId)).map((e) => e.name).sort(),
    );
  });

  it('ingests a references file in chunks with deterministic ingest ids, keeping the urls out of Redis', async () => {
    const images: Server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'image/png' });
      res.end(pngBytes(req.url ?? ''));
    });
    await new Promise<void>((r) => images.listen(0, '127.0.0.1', r));
    try {
      h = await startHarness();
      const port = (images.address() as AddressInfo).port;
      const refs = join(h.dir, 'refs.jsonl');
      const lines = Array.from({ length: 30 }, (_, i) =>
        JSON.stringify({ name: `ref ${i}.png`, url: `http://127.0.0.1:${port}/img/${i}.png?sig=secret${i}` }),
      );
      await writeFile(refs, `${lines.join('\n')}\n`);
      const runId = await h.submit(h.spec({ kind: 'references', path: refs }));
      const state = await h.waitFor(runId, ['verifying']);
      expect(state.uploadMode).toBe('references');
      expect(state.counters).toMatchObject({ expected: 30, filesUploaded: 30 });
      const spec = await h.ctx.store.spec(runId);
      await expect.poll(() => h!.ctx.client.countBatch(spec.batchId), { timeout: 10_000 }).toBe(30);
      const chunk = await h.ctx.queues.ingest.getJob(stageJobId('references', runId, 0, 0));
      expect(chunk?.returnvalue).toMatchObject({
        chunk: 0,
        references: 30,
        ingestId: `rfb-${runId}-0`,
        duplicated: false,
      });
      // No signed url reached Redis: not in job data, return values or run state.
      const keys = await h.ctx.connection.keys(`${h.prefix}:*`);
      for (const key of keys) {
        const type = await h.ctx.connection.type(key);
        const dump =
          type === 'hash'
            ? JSON.stringify(await h.ctx.connection.hgetall(key))
            : type === 'list'
              ? JSON.stringify(await h.ctx.connection.lrange(key, 0, -1))
              : '';
        expect(dump).not.toContain('secret');
      }
    } finally {
      images.close();
    }
  });

  it('does not start a run twice for the same run id', async () => {
    h = await startHarness({ startService: false });
    const src = join(h.dir, 'src');
    await writeTree(src, { 'a.png': pngBytes(1) });
    const spec = h.spec({ kind: 'directory', path: src }, { runId: 'twice' });
    const { submitRun } = await import('@rfbatch/run-control');
    expect(await submitRun(h.ctx.queues, h.ctx.store, spec)).toEqual({ runId: 'twice', created: true });
    expect(await submitRun(h.ctx.queues, h.ctx.store, spec)).toEqual({ runId: 'twice', created: false });
    expect(await h.ctx.queues.runs.getJobCounts('waiting')).toEqual({ waiting: 1 });
    expect(runPaths(h.workDir, 'twice').dir).toContain('twice');
  });

  it('an intake of the spec the run was submitted with warns about nothing', async () => {
    const capture = captureLogger();
    h = await startHarness({ logger: capture.logger });
    const src = join(h.dir, 'src');
    await writeTree(src, { 'a.png': pngBytes(1) });
    // No run, batch or job id given: resolving appends them, so the stored spec's key order is not the schema's.
    const runId = await h.submit(
      h.spec(
        { kind: 'directory', path: src },
        { workflow: { workflowId: 'wf', parameters: { b: 2, a: 1 } } },
      ),
    );
    await h.waitFor(runId, ['verifying']);
    expect(capture.lines.some((l) => l.includes('run accepted; planning'))).toBe(true);
    expect(capture.lines.filter((l) => l.includes('another spec'))).toEqual([]);
  });

  it('an intake whose spec differs from the stored one keeps the stored spec and says so', async () => {
    const capture = captureLogger();
    h = await startHarness({ logger: capture.logger, startService: false });
    const src = join(h.dir, 'src');
    await writeTree(src, { 'a.png': pngBytes(1) });
    const spec = h.spec({ kind: 'directory', path: src }, { runId: 'differs' });
    await h.submit(spec);
    // Replace the queued intake by one that carries another Workflow under the same run id.
    await h.ctx.queues.runs.remove(stageJobId('intake', 'differs'));
    const other = resolveRunSpec(RunSpecSchema.parse({ ...spec, workflow: { workflowId: 'another-wf' } }));
    await enqueue(
      h.ctx.queues,
      'runs',
      'intake',
      { spec: other },
      { jobId: stageJobId('intake', 'differs') },
    );
    const service = await startIngest(h.ctx);
    try {
      await h.waitFor('differs', ['verifying']);
    } finally {
      await service.close();
    }
    expect(capture.lines.filter((l) => l.includes('another spec'))).toHaveLength(1);
    expect((await h.ctx.store.spec('differs')).workflow.workflowId).toBe('wf');
  });
});
