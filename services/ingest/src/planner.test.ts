import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ManifestEntry,
  readJsonLines,
  resolveRunSpec,
  RunSpecSchema,
  runPaths,
  SkippedEntry,
  type RunSpecInput,
} from '@rfbatch/shared';
import { planRun } from './planner.js';
import { fakeMp4, pngBytes } from '@rfbatch/testkit/images';
import { writeTree } from '@rfbatch/testkit/source-tree';
import { readPlanFile } from '@rfbatch/shared';

let dir: string;
let src: string;
let work: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rfb-plan-'));
  src = join(dir, 'src');
  work = join(dir, 'work');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function spec(overrides: Partial<RunSpecInput> = {}) {
  return resolveRunSpec(
    RunSpecSchema.parse({
      runId: 'plan-test',
      source: { kind: 'directory', path: src },
      workflow: { workflowId: 'wf' },
      output: { dir: join(dir, 'out') },
      ...overrides,
    }),
  );
}

async function manifest(runId = 'plan-test') {
  const out: ManifestEntry[] = [];
  for await (const e of readJsonLines(runPaths(work, runId).manifest, ManifestEntry)) out.push(e);
  return out;
}

describe('planRun', () => {
  it('uses single uploads up to the threshold', async () => {
    await writeTree(
      src,
      Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`d${i % 2}/x${i >> 1}.png`, pngBytes(i)])),
    );
    const plan = await planRun(spec(), work);
    expect(plan.mode).toBe('single');
    expect(plan.files).toBe(32);
    expect(plan.units).toHaveLength(1);
    expect(await readPlanFile(runPaths(work, 'plan-test').plan)).toEqual(plan);
  });

  it('without shardMaxImages, cuts a run into 32 even shards of 16 to 500 images', async () => {
    const tiny = pngBytes(0);
    const sizes = async (n: number, upload: RunSpecInput['upload'] = {}) => {
      await rm(src, { recursive: true, force: true });
      await rm(work, { recursive: true, force: true });
      await writeTree(src, Object.fromEntries(Array.from({ length: n }, (_, i) => [`s/${i}.png`, tiny])));
      const plan = await planRun(spec({ upload }), work);
      expect(plan.mode).toBe('shards');
      expect(plan.files).toBe(n);
      // Every unit holds whole manifest lines of its own unit number, in order.
      const all = await manifest();
      expect(all.map((e) => e.unit)).toEqual(plan.units.flatMap((u) => Array<number>(u.count).fill(u.n)));
      return plan.units.map((u) => u.count);
    };
    // 2,000 images: 32 shards (of 63, the last smaller), all of them in flight at once.
    const two = await sizes(2_000);
    expect(two).toHaveLength(32);
    expect(new Set(two.slice(0, -1))).toEqual(new Set([63]));
    // Few images: shards of 16, not of 2.
    expect(await sizes(100)).toEqual([16, 16, 16, 16, 16, 16, 4]);
    // More than the look-ahead (targetShards × 500; 2 here, to keep the tree small): 500-image shards,
    // already more than the target; exactly at it, the look-ahead saw the end.
    expect(await sizes(1_001, { targetShards: 2 })).toEqual([500, 500, 1]);
    expect(await sizes(1_000, { targetShards: 2 })).toEqual([500, 500]);
    // Another target, and a fixed size when the user gives one.
    expect(await sizes(2_000, { targetShards: 8 })).toEqual(Array<number>(8).fill(250));
    expect(await sizes(100, { shardMaxImages: 40 })).toEqual([40, 40, 20]);
  });

  it('cuts shards by count and bytes, with byte ranges that read back exactly', async () => {
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 75; i++) files[`a/${i}.png`] = pngBytes(i);
    await writeTree(src, files);
    const png = pngBytes(0).length;
    const plan = await planRun(spec({ upload: { shardMaxImages: 20, shardMaxBytes: 1024 * 1024 } }), work);
    expect(plan.mode).toBe('shards');
    expect(plan.units.map((u) => u.count)).toEqual([20, 20, 20, 15]);
    expect(plan.bytes).toBe(75 * png);
    const all = await manifest();
    expect(all.map((e) => e.i)).toEqual([...Array(75).keys()]);
    expect(new Set(all.map((e) => e.name)).size).toBe(75);
    for (const unit of plan.units) {
      const lines: ManifestEntry[] = [];
      for await (const e of readJsonLines(runPaths(work, 'plan-test').manifest, ManifestEntry, unit.range))
        lines.push(e);
      expect(lines).toHaveLength(unit.count);
      expect(lines.every((e) => e.unit === unit.n)).toBe(true);
      expect(lines.reduce((s, e) => s + e.size!, 0)).toBe(unit.bytes);
    }
  });

  it('starts a new shard before the byte cap is passed', async () => {
    const big = Buffer.concat([pngBytes(1), Buffer.alloc(400 * 1024)]);
    await writeTree(src, Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`${i}.png`, big])));
    const plan = await planRun(spec({ upload: { shardMaxBytes: 1024 * 1024 } }), work);
    expect(plan.units.every((u) => u.bytes <= 1024 * 1024)).toBe(true);
    expect(plan.units.map((u) => u.count)).toEqual(Array(20).fill(2));
  });

  it('records skipped files and fails when nothing is left', async () => {
    await writeTree(src, { 'a.txt': 'x', 'b.png': Buffer.alloc(0) });
    await expect(planRun(spec(), work)).rejects.toThrow(
      /has no images to upload: 2 skipped \((1 not-media, 1 empty|1 empty, 1 not-media)\)/,
    );
    const skipped: SkippedEntry[] = [];
    for await (const s of readJsonLines(runPaths(work, 'plan-test').skipped, SkippedEntry)) skipped.push(s);
    expect(skipped.map((s) => s.reason).sort()).toEqual(['empty', 'not-media']);
    expect(await readPlanFile(runPaths(work, 'plan-test').plan)).toBeUndefined();
  });

  it('says when the folder is empty', async () => {
    await writeTree(src, {});
    await writeTree(dir, { 'src/.keep-dir/': '' }).catch(() => undefined);
    await rm(join(src, '.keep-dir'), { recursive: true, force: true });
    await expect(planRun(spec(), work)).rejects.toThrow(
      `folder "${src}" has no images to upload (it is empty)`,
    );
  });

  it('plans videos in groups', async () => {
    await writeTree(
      src,
      Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`v${i}.mp4`, fakeMp4(4096, i)])),
    );
    const plan = await planRun(
      spec({ source: { kind: 'directory', path: src, media: 'videos' }, upload: { filesPerJob: 2 } }),
      work,
    );
    expect(plan).toMatchObject({ mode: 'videos', kind: 'video', files: 5 });
    expect(plan.units.map((u) => u.count)).toEqual([2, 2, 1]);
  });

  it('plans a references file, keeping urls in the manifest only and reporting bad lines', async () => {
    const refs = join(dir, 'refs.jsonl');
    const lines = Array.from({ length: 5 }, (_, i) =>
      JSON.stringify({ name: `img ${i}.jpg`, url: `https://store.example/${i}.jpg?sig=s${i}` }),
    );
    lines.splice(
      2,
      0,
      '{"name": "", "url": "https://x.example/a.jpg"}',
      'not json',
      '{"name":"n.jpg","url":"ftp://x"}',
    );
    await writeFile(refs, `${lines.join('\n')}\n\n`);
    const plan = await planRun(spec({ source: { kind: 'references', path: refs } }), work);
    expect(plan).toMatchObject({ mode: 'references', files: 5, skipped: 3, bytes: 0 });
    const all = await manifest();
    expect(all[0]).toMatchObject({
      source: 'img 0.jpg',
      name: 'img_0-0.jpg',
      url: 'https://store.example/0.jpg?sig=s0',
    });
    const skippedText = await readFile(runPaths(work, 'plan-test').skipped, 'utf8');
    expect(skippedText).not.toContain('x.example');
    expect(skippedText).toContain('"source":"line 3"');
  });

  it('fails clearly for a missing references file', async () => {
    const missing = join(dir, 'none.jsonl');
    await expect(planRun(spec({ source: { kind: 'references', path: missing } }), work)).rejects.toThrow(
      `references file "${missing}" does not exist`,
    );
  });
});
