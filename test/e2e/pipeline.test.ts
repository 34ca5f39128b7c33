/**
 * End to end: a RunSpec goes in, joined results come out — ingest, verify, start, await, collect,
 * download, finalize — against the real emulator and a real Redis, polling only (no webhooks), in both
 * of the emulator's response shapes: `seed` (rfbatch's reference) and `official` (what the official
 * client's models allow: no envelope, no top-level job status, other timestamp forms, unknown fields).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeMp4, pngBytes } from '@rfbatch/testkit/images';
import { writeTree } from '@rfbatch/testkit/source-tree';
import { startStack, type Stack } from '@rfbatch/testkit/stack';

interface Line {
  source: string;
  remoteName?: string;
  kind?: string;
  status: string;
  reason?: string;
  result?: Record<string, unknown>;
  frames?: Record<string, unknown>[];
}
interface Summary {
  runId: string;
  state: string;
  batchId: string;
  jobId: string;
  counts: Record<string, number>;
  statusCounts: Record<string, number>;
  timings: Record<string, { durationMs?: number }>;
}

let stack: Stack;

async function outputs(runId: string): Promise<{ lines: Line[]; summary: Summary }> {
  const dir = join(stack.outputDir, runId);
  const lines = (await readFile(join(dir, 'results.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Line);
  const summary = JSON.parse(await readFile(join(dir, 'summary.json'), 'utf8')) as Summary;
  return { lines, summary };
}

/** `n` PNGs in nested folders, with duplicate basenames across folders. */
function imageTree(n: number): Record<string, Buffer> {
  const files: Record<string, Buffer> = {};
  for (let i = 0; i < n; i++) files[`set-${i % 7}/sub-${i % 3}/img-${Math.floor(i / 21)}.png`] = pngBytes(i);
  return files;
}

describe.each(['seed', 'official'] as const)('a whole run (%s response shape)', (responseShape) => {
  beforeAll(async () => {
    stack = await startStack({ emulator: { webhooks: false, responseShape } });
  });
  afterAll(() => stack.close());

  it('1,234 images by tar shards: one result line per image, and summary counts that match', async () => {
    const files = imageTree(1234);
    const source = join(stack.workDir, 'src-1234');
    await writeTree(source, files);
    const runId = await stack.submit({ source: { kind: 'directory', path: source } });
    const state = await stack.waitForRun(runId, 120_000);
    expect(state.error).toBeUndefined();
    expect(state.status).toBe('completed');
    expect(state.uploadMode).toBe('shards');

    const { lines, summary } = await outputs(runId);
    expect(lines).toHaveLength(1234);
    expect(new Set(lines.map((l) => l.source))).toEqual(new Set(Object.keys(files)));
    expect(new Set(lines.map((l) => l.remoteName)).size).toBe(1234);
    for (const line of lines) {
      expect(line.status).toBe('ok');
      expect(line.result?.file_name).toBe(line.remoteName);
      expect(line.result?.format).toBe('png');
    }
    expect(summary).toMatchObject({
      runId,
      state: 'completed',
      counts: { sourceFiles: 1234, skipped: 0, uploaded: 1234, indexed: 1234, results: 1234, missing: 0 },
      statusCounts: { ok: 1234, failed: 0, 'not-processed': 0, skipped: 0 },
    });
    expect(Object.keys(summary.timings)).toEqual([
      'plan',
      'upload',
      'verify',
      'start',
      'await',
      'collect',
      'download',
      'finalize',
    ]);
    // Polling alone finished it: the emulator delivered no webhook.
    expect(stack.emulator.state().webhooks.delivered).toBe(0);
  });

  it('20 images by single uploads, with a skipped file listed, aggregated as CSV', async () => {
    const files: Record<string, Buffer | string> = imageTree(20);
    files['notes/readme.txt'] = 'not an image';
    const source = join(stack.workDir, 'src-20');
    await writeTree(source, files);
    const runId = await stack.submit({
      source: { kind: 'directory', path: source },
      workflow: { workflowId: 'wf-csv', aggregationFormat: 'csv' },
    });
    const state = await stack.waitForRun(runId);
    expect(state.status).toBe('completed');
    expect(state.uploadMode).toBe('single');
    const { lines, summary } = await outputs(runId);
    expect(lines).toHaveLength(21);
    const images = lines.filter((l) => l.status !== 'skipped');
    expect(images).toHaveLength(20);
    // CSV cells are strings: the record came through the CSV reader.
    expect(
      images.every(
        (l) => l.status === 'ok' && l.result?.width === '8' && l.result.file_name === l.remoteName,
      ),
    ).toBe(true);
    expect(lines.find((l) => l.source === 'notes/readme.txt')).toMatchObject({
      status: 'skipped',
      reason: 'not-media',
    });
    expect(summary.counts).toMatchObject({
      sourceFiles: 21,
      skipped: 1,
      uploaded: 20,
      indexed: 20,
      results: 20,
      missing: 0,
    });
    expect(summary.statusCounts).toMatchObject({ ok: 20, skipped: 1 });
  });

  it('a video run: one line per video with its sampled frames', async () => {
    const source = join(stack.workDir, 'src-videos');
    await writeTree(source, { 'a/clip.mp4': fakeMp4(300_000, 1), 'b/clip.mp4': fakeMp4(600_000, 2) });
    const runId = await stack.submit({
      source: { kind: 'directory', path: source, media: 'videos' },
      workflow: { workflowId: 'wf-video', maxVideoFPS: 2 },
    });
    const state = await stack.waitForRun(runId);
    expect(state.error).toBeUndefined();
    expect(state.uploadMode).toBe('videos');
    const { lines, summary } = await outputs(runId);
    expect(lines.map((l) => [l.source, l.kind, l.status])).toEqual([
      ['a/clip.mp4', 'video', 'ok'],
      ['b/clip.mp4', 'video', 'ok'],
    ]);
    const frames = lines.map((l) => l.frames ?? []);
    expect(frames[0]?.length).toBeGreaterThan(0);
    expect(frames[1]?.length).toBeGreaterThan(frames[0]?.length ?? 0);
    expect(frames[0]?.map((f) => f.frame_index)).toEqual(frames[0]?.map((_, i) => i));
    expect(summary.counts).toMatchObject({ sourceFiles: 2, results: 2, missing: 0 });
  });
});
