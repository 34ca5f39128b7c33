/**
 * report.html as finalize writes it, for runs of every shape through the real pipeline (emulator,
 * Redis, every service): a run whose Workflow found nothing, one where every item failed or was
 * skipped, a video run and a CSV run. Each report is checked against results.jsonl read here.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeMp4, pngBytes } from '@rfbatch/testkit/images';
import { writeTree } from '@rfbatch/testkit/source-tree';
import { startStack, type Stack } from '@rfbatch/testkit/stack';
import { newRunId } from '@rfbatch/shared';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

interface Line {
  source: string;
  status: string;
  result?: Record<string, unknown>;
  frames?: Record<string, unknown>[];
}

async function finished(spec: Record<string, unknown>) {
  const runId = await stack.submit(spec);
  const state = await stack.waitForRun(runId, 60_000);
  const out = join(stack.outputDir, runId);
  const html = await readFile(join(out, 'report.html'), 'utf8');
  const lines = (await readFile(join(out, 'results.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Line);
  return { runId, state, html, lines };
}

/** The numbers the report shows, by `data-count`. */
function shownCounts(html: string): Record<string, number> {
  return Object.fromEntries(
    [...html.matchAll(/data-count="([^"]+)">([\d,]+)</g)].map((m) => [m[1], Number(m[2]?.replace(/,/g, ''))]),
  );
}

/** Gallery tiles: source, boxes drawn, whether a thumbnail is embedded. */
function tiles(html: string) {
  return [...html.matchAll(/<figure data-source="([^"]+)" data-boxes="(\d+)">(.*?)<\/figure>/g)].map((m) => ({
    source: m[1],
    boxes: Number(m[2]),
    thumbnail: /<img src="data:image\/webp;base64,/.test(m[3] ?? ''),
    body: m[3] ?? '',
  }));
}

/** Nothing in the file points outside it. */
function expectSelfContained(html: string): void {
  expect(html).not.toMatch(/<script|<link|@import|url\(/i);
  expect(html).not.toMatch(/\s(src|href)="(?!data:)/);
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe('report.html written by finalize', () => {
  it('a run whose Workflow detects nothing: zero detections, every image in the gallery without boxes', async () => {
    // The emulator's boxes derive from each image's SHA-256: these seeds give none.
    const files: Record<string, Buffer> = {};
    for (let seed = 0; Object.keys(files).length < 8; seed++) {
      const bytes = pngBytes(`empty-${seed}`, 0, 16);
      if ((createHash('sha256').update(bytes).digest()[0] ?? 1) % 4 === 0) files[`e/${seed}.png`] = bytes;
    }
    const source = join(stack.workDir, 'zero');
    await writeTree(source, files);
    const { state, html, lines } = await finished({ source: { kind: 'directory', path: source } });
    expect(state.status).toBe('completed');
    expect(
      lines.every((l) => Array.isArray(l.result?.predictions) && l.result.predictions.length === 0),
    ).toBe(true);
    expect(shownCounts(html)).toMatchObject({ sourceFiles: 8, ok: 8, failed: 0, skipped: 0, detections: 0 });
    const shown = tiles(html);
    expect(shown.map((t) => t.source).sort()).toEqual(Object.keys(files).sort());
    expect(shown.every((t) => t.boxes === 0 && t.thumbnail)).toBe(true);
    expect(html).toContain('None: every item has a result.');
    expectSelfContained(html);
  });

  it('a run where every item failed or was skipped: no gallery, each item listed with its reason', async () => {
    const source = join(stack.workDir, 'all-failed');
    await writeTree(source, {
      'a.png': Buffer.concat([PNG_SIGNATURE, Buffer.from('cut short')]),
      'b.png': Buffer.concat([PNG_SIGNATURE, Buffer.from('also cut <short>')]),
      'readme.md': 'not an image',
    });
    const { state, html, lines } = await finished({ source: { kind: 'directory', path: source } });
    expect(state.status).toBe('completed');
    expect(lines.map((l) => l.status).sort()).toEqual(['failed', 'failed', 'skipped']);
    expect(shownCounts(html)).toMatchObject({ sourceFiles: 3, ok: 0, failed: 2, skipped: 1 });
    expect(tiles(html)).toEqual([]);
    expect(html).toContain('No item of this run has a result');
    const rows = [...html.matchAll(/<tr data-status="([^"]+)"><td><code>([^<]+)<\/code>/g)].map((m) => [
      m[2],
      m[1],
    ]);
    expect(rows.sort()).toEqual([
      ['a.png', 'failed'],
      ['b.png', 'failed'],
      ['readme.md', 'skipped'],
    ]);
    expect(html.match(/could not decode image/g)).toHaveLength(2);
    expectSelfContained(html);
  });

  it('a video run: one tile per video with the boxes of its busiest frame, frames counted', async () => {
    const source = join(stack.workDir, 'videos');
    await writeTree(source, { 'a/clip.mp4': fakeMp4(300_000, 1), 'b/clip.mp4': fakeMp4(600_000, 2) });
    const { state, html, lines } = await finished({
      source: { kind: 'directory', path: source, media: 'videos' },
      workflow: { workflowId: 'wf-video', maxVideoFPS: 2 },
    });
    expect(state.status).toBe('completed');
    const frameBoxes = lines.map((l) => (l.frames ?? []).map((f) => (f.predictions as unknown[]).length));
    const detections = frameBoxes.flat().reduce((a, b) => a + b, 0);
    expect(shownCounts(html)).toMatchObject({ sourceFiles: 2, ok: 2, detections });
    const shown = tiles(html);
    expect(shown).toHaveLength(2);
    for (const [i, line] of lines.entries()) {
      const t = shown.find((s) => s.source === line.source);
      expect(t?.boxes).toBe(Math.max(...(frameBoxes[i] ?? [0])));
      expect(t?.thumbnail).toBe(false);
      expect(t?.body).toContain(`video · ${line.frames?.length} frames`);
    }
    expect(html).toContain('2 videos');
    expectSelfContained(html);
  });

  it('a CSV run: detections read from the CSV cells, classes counted as results.jsonl has them', async () => {
    const source = join(stack.workDir, 'csv');
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 24; i++) files[`c/${i}.png`] = pngBytes(`csv-${i}`, 0, 32);
    await writeTree(source, files);
    const { state, html, lines } = await finished({
      source: { kind: 'directory', path: source },
      workflow: { workflowId: 'wf-csv', aggregationFormat: 'csv' },
    });
    expect(state.status).toBe('completed');
    // CSV cells are text: the predictions are JSON inside a string.
    expect(lines.every((l) => typeof l.result?.predictions === 'string')).toBe(true);
    const classes = new Map<string, number>();
    for (const l of lines)
      for (const p of JSON.parse(String(l.result?.predictions)) as { class: string }[])
        classes.set(p.class, (classes.get(p.class) ?? 0) + 1);
    const total = [...classes.values()].reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(0);
    expect(shownCounts(html)).toMatchObject({ sourceFiles: 24, ok: 24, detections: total });
    const classTable = html.slice(html.indexOf('id="classes"'), html.indexOf('id="confidence"'));
    for (const [name, n] of classes) expect(classTable).toContain(`<td>${name}</td><td class="n">${n}</td>`);
    const shown = tiles(html);
    expect(shown).toHaveLength(24);
    expect(shown.every((t) => t.thumbnail)).toBe(true);
    expect(shown.reduce((a, t) => a + t.boxes, 0)).toBe(total);
    expect(html).toContain('csv aggregation');
    expectSelfContained(html);
  });

  it('a report that cannot be written is a warning: the run still completes with its results', async () => {
    const source = join(stack.workDir, 'no-report');
    await writeTree(source, { 'x/1.png': pngBytes('nr-1'), 'x/2.png': pngBytes('nr-2') });
    const runId = newRunId();
    const out = join(stack.outputDir, runId);
    // A folder where report.html should go: the rename onto it fails.
    await mkdir(join(out, 'report.html', 'in-the-way'), { recursive: true });
    await stack.submit({ runId, source: { kind: 'directory', path: source } });
    const state = await stack.waitForRun(runId, 60_000);
    expect(state.status).toBe('completed');
    expect(state.warnings.some((w) => w.startsWith('report.html was not written:'))).toBe(true);
    const lines = (await readFile(join(out, 'results.jsonl'), 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(2);
  });
});
