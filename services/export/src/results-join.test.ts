import { mkdtempSync } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ManifestEntry } from '@rfbatch/shared';
import { parseCsv } from './csv.js';
import { exportPaths, type DownloadEntry } from './downloads.js';
import { writeResults } from './write-results.js';
import { joinEntry, recordName } from './results-join.js';

const root = mkdtempSync(join(tmpdir(), 'rfb-join-'));
afterAll(() => rm(root, { recursive: true, force: true }));

const image = (i: number, name: string, source: string): ManifestEntry => ({
  i,
  source,
  name,
  kind: 'image',
  unit: 0,
});

describe('parseCsv', () => {
  it('reads quoted fields with commas, quotes and newlines', () => {
    const text =
      '\ufefffile_name,predictions,error\r\na.png,"[{""x"":1,""y"":2}]",\nb.png,"two\nlines","bad, very"\n';
    expect(parseCsv(text)).toEqual([
      { file_name: 'a.png', predictions: '[{"x":1,"y":2}]', error: '' },
      { file_name: 'b.png', predictions: 'two\nlines', error: 'bad, very' },
    ]);
    expect(parseCsv('')).toEqual([]);
    expect(parseCsv('a,b\n1')).toEqual([{ a: '1', b: '' }]);
  });
});

describe('joinEntry', () => {
  it('marks ok, failed and not-processed files', () => {
    expect(joinEntry(image(0, 'a.png', 'x/a.png'), [{ file_name: 'a.png', error: null, w: 1 }])).toEqual({
      source: 'x/a.png',
      remoteName: 'a.png',
      kind: 'image',
      status: 'ok',
      result: { file_name: 'a.png', error: null, w: 1 },
    });
    expect(
      joinEntry(image(1, 'b.png', 'b.png'), [{ file_name: 'b.png', error: 'could not decode image' }]),
    ).toMatchObject({
      status: 'failed',
      reason: 'could not decode image',
    });
    expect(joinEntry(image(2, 'c.png', 'c.png'), undefined)).toMatchObject({ status: 'not-processed' });
  });

  it('puts a video’s frames in frame order', () => {
    const video: ManifestEntry = { i: 0, source: 'v.mp4', name: 'v.mp4', kind: 'video', unit: 0 };
    const line = joinEntry(video, [
      { file_name: 'v.mp4', frame_index: 1, error: null },
      { file_name: 'v.mp4', frame_index: 0, error: null },
    ]);
    expect(line.frames?.map((f) => f.frame_index)).toEqual([0, 1]);
    expect(line.status).toBe('ok');
  });

  it('finds the file name under the usual keys', () => {
    expect(recordName({ file_name: 'a.png' })).toBe('a.png');
    expect(recordName({ fileName: 'dir/b.png' })).toBe('b.png');
    expect(recordName({ other: 1 })).toBeUndefined();
  });
});

describe('writeResults', () => {
  it('writes one line per source file, joined through the manifest, and the same bytes twice', async () => {
    const paths = exportPaths(join(root, 'work'), 'r-join', join(root, 'out'), true);
    await mkdir(paths.dir, { recursive: true });
    const manifest = [
      image(0, 'a.png', 'cats/a.png'),
      image(1, 'a-1.png', 'dogs/a.png'),
      image(2, 'c.png', 'c.png'),
      image(3, 'd.png', 'd.png'),
    ];
    await writeFile(paths.manifest, manifest.map((m) => `${JSON.stringify(m)}\n`).join(''));
    await writeFile(paths.skipped, `${JSON.stringify({ source: 'notes.txt', reason: 'not-media' })}\n`);
    const entries: DownloadEntry[] = [
      {
        i: 0,
        batchId: 'b',
        partName: 'results',
        fileName: 't1.jsonl',
        shardId: null,
        contentType: 'x',
        local: 'results/t1.jsonl',
        archive: false,
      },
      {
        i: 1,
        batchId: 'b',
        partName: 'results',
        fileName: 'e.tar.gz',
        shardId: null,
        contentType: 'x',
        local: 'results/e.tar.gz',
        archive: true,
      },
    ];
    await writeFile(paths.downloads, entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
    await mkdir(join(paths.outputs, 'results', 'e'), { recursive: true });
    await writeFile(
      join(paths.outputs, 'results', 't1.jsonl'),
      '{"file_name":"a.png","error":null}\nnot json\n{"file_name":"zzz.png"}\n',
    );
    await writeFile(
      join(paths.outputs, 'results', 'e', 't2.csv'),
      'file_name,error\na-1.png,\nc.png,could not decode image\n',
    );

    const counts = await writeResults(paths);
    expect(counts).toMatchObject({
      sourceFiles: 5,
      skipped: 1,
      results: 3,
      missing: 1,
      byStatus: { ok: 2, failed: 1, 'not-processed': 1, skipped: 1 },
      unmatchedRecords: 1,
      unmatchedExample: 'zzz.png',
      badLines: 1,
    });
    const first = await readFile(paths.results, 'utf8');
    const lines = first
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { source: string; status: string; remoteName?: string });
    expect(lines.map((l) => [l.source, l.status])).toEqual([
      ['cats/a.png', 'ok'],
      ['dogs/a.png', 'ok'],
      ['c.png', 'failed'],
      ['d.png', 'not-processed'],
      ['notes.txt', 'skipped'],
    ]);
    expect(lines[1]?.remoteName).toBe('a-1.png');

    const before = await stat(paths.results);
    await writeResults(paths);
    expect(await readFile(paths.results, 'utf8')).toBe(first);
    expect((await stat(paths.results)).size).toBe(before.size);
  });
});

describe('writeResults beyond its sort buffers', () => {
  it('writes the same bytes and counts when every sort spills to disk, in manifest order, with or without a manifest', async () => {
    const paths = exportPaths(join(root, 'work'), 'r-spill', join(root, 'out-spill'), true);
    await mkdir(join(paths.outputs, 'results'), { recursive: true });
    await mkdir(paths.dir, { recursive: true });
    // 400 files in manifest order i; their remote names sort in another order than i.
    const manifest = Array.from({ length: 400 }, (_, i) =>
      image(i, `n${(i * 7919) % 400}.png`, `src/${i}.png`),
    );
    await writeFile(paths.manifest, manifest.map((m) => `${JSON.stringify(m)}\n`).join(''));
    const entry = (i: number, fileName: string): DownloadEntry => ({
      i,
      batchId: 'b',
      partName: 'results',
      fileName,
      shardId: null,
      contentType: 'x',
      local: `results/${fileName}`,
      archive: false,
    });
    await writeFile(
      paths.downloads,
      [entry(0, 'a.jsonl'), entry(1, 'b.jsonl')].map((e) => `${JSON.stringify(e)}\n`).join(''),
    );
    // Every third file has a result, in a shuffled order over two files; some are failed, one is
    // twice (the first stands), one record names no file of the run, one names nothing.
    const lines: string[] = [];
    for (let k = 0; k < 400; k += 3) {
      const i = (k * 31) % 400;
      lines.push(JSON.stringify({ file_name: `n${i}.png`, error: i % 5 === 0 ? 'bad image' : null, seq: k }));
    }
    lines.push(JSON.stringify({ file_name: 'n0.png', error: null, seq: 'again' }));
    lines.push(JSON.stringify({ file_name: 'stranger.png' }), JSON.stringify({ other: 1 }));
    await writeFile(join(paths.outputs, 'results', 'a.jsonl'), `${lines.slice(0, 70).join('\n')}\n`);
    await writeFile(join(paths.outputs, 'results', 'b.jsonl'), `${lines.slice(70).join('\n')}\n`);

    const inMemory = await writeResults(paths);
    const expected = await readFile(paths.results, 'utf8');
    const spilled = await writeResults(paths, { sortBufferBytes: 256 });
    expect(await readFile(paths.results, 'utf8')).toBe(expected);
    expect(spilled).toEqual(inMemory);
    expect(spilled).toMatchObject({
      sourceFiles: 400,
      results: 134,
      missing: 266,
      unmatchedRecords: 2,
      unmatchedExample: 'stranger.png',
    });
    const out = expected
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as { source: string; remoteName: string; status: string; result?: { seq: unknown } },
      );
    expect(out.map((l) => l.source)).toEqual(manifest.map((m) => m.source));
    expect(out.find((l) => l.remoteName === 'n0.png')?.result?.seq).not.toBe('again');
    await expect(stat(join(paths.dir, 'join'))).rejects.toMatchObject({ code: 'ENOENT' });

    // Without a manifest (an adopted job): one line per name, in name order, the same either way.
    await rm(paths.manifest);
    const keyed = await writeResults(paths);
    const keyedText = await readFile(paths.results, 'utf8');
    expect(await writeResults(paths, { sortBufferBytes: 128 })).toEqual(keyed);
    expect(await readFile(paths.results, 'utf8')).toBe(keyedText);
    const names = keyedText
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { source: string }).source);
    expect(names).toEqual([...names].sort());
    expect(names).toContain('stranger.png');
    expect(keyed.sourceFiles).toBe(135);
  });
});
