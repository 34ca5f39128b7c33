import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, symlink, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RfbatchError, type SkippedEntry } from '@rfbatch/shared';
import { scanDirectory, type ScanItem, type ScannedFile } from './scan.js';
import { fakeMp4, pngBytes } from '@rfbatch/testkit/images';
import { writeTree } from '@rfbatch/testkit/source-tree';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'rfb-scan-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function collect(
  it: AsyncIterable<ScanItem>,
): Promise<{ files: ScannedFile[]; skipped: SkippedEntry[] }> {
  const files: ScannedFile[] = [];
  const skipped: SkippedEntry[] = [];
  for await (const item of it) {
    if (item.type === 'file') files.push(item);
    else skipped.push(item.entry);
  }
  files.sort((a, b) => a.source.localeCompare(b.source));
  skipped.sort((a, b) => a.source.localeCompare(b.source));
  return { files, skipped };
}

describe('scanDirectory', () => {
  it('keeps images by extension and content, and says why it skips the rest', async () => {
    await writeTree(root, {
      'a/x.jpg': Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(100)]),
      'b/x.PNG': pngBytes(1),
      'b/deep/ünï cødé.png': pngBytes(2),
      'notes.txt': 'hello',
      'fake.png': 'this is text, not a PNG',
      'empty.png': Buffer.alloc(0),
      'clip.mp4': fakeMp4(),
    });
    const { files, skipped } = await collect(scanDirectory(root, { media: 'images' }));
    expect(files.map((f) => f.source)).toEqual(['a/x.jpg', 'b/deep/ünï cødé.png', 'b/x.PNG']);
    expect(files[0]!.size).toBe(104);
    expect(skipped).toEqual([
      { source: 'clip.mp4', reason: 'not-media', detail: '.mp4 is not a kept images extension' },
      { source: 'empty.png', reason: 'empty', detail: '0 bytes' },
      { source: 'fake.png', reason: 'not-media', detail: 'content is not PNG data (extension .png)' },
      { source: 'notes.txt', reason: 'not-media', detail: '.txt is not a kept images extension' },
    ]);
  });

  it('skips images over the size limit', async () => {
    await writeTree(root, {
      'big.png': Buffer.concat([pngBytes(1), Buffer.alloc(2048)]),
      'ok.png': pngBytes(2),
    });
    const { files, skipped } = await collect(scanDirectory(root, { media: 'images', maxImageBytes: 1024 }));
    expect(files.map((f) => f.source)).toEqual(['ok.png']);
    expect(skipped[0]).toMatchObject({ source: 'big.png', reason: 'too-large' });
  });

  it('reports symlink loops, broken links and special files instead of failing', async () => {
    await writeTree(root, { 'sub/a.png': pngBytes(1) });
    await symlink('..', join(root, 'sub', 'up'));
    await symlink(join(root, 'missing.png'), join(root, 'dangling.png'));
    await symlink('self.png', join(root, 'self.png'));
    const fifo = spawnSync('mkfifo', [join(root, 'pipe.png')]).status === 0;
    const { files, skipped } = await collect(scanDirectory(root, { media: 'images' }));
    expect(files.map((f) => f.source)).toEqual(['sub/a.png']);
    expect(skipped).toEqual(
      expect.arrayContaining([
        { source: 'dangling.png', reason: 'unreadable', detail: 'broken symbolic link' },
        { source: 'self.png', reason: 'symlink-loop', detail: 'the link resolves to itself' },
        { source: 'sub/up', reason: 'symlink-loop', detail: 'links to a folder above it' },
      ]),
    );
    if (fifo) expect(skipped).toContainEqual({ source: 'pipe.png', reason: 'not-a-file' });
  });

  it('follows a symlinked folder once', async () => {
    await writeTree(root, { 'real/a.png': pngBytes(1) });
    await symlink(join(root, 'real'), join(root, 'alias'));
    const { files, skipped } = await collect(scanDirectory(root, { media: 'images' }));
    expect(files).toHaveLength(1);
    expect(skipped).toHaveLength(1);
    expect(['alias', 'real']).toContain(skipped[0]!.source);
    expect(skipped[0]!.reason).toBe('duplicate');
  });

  it('does not descend when recursive is false, and honours include', async () => {
    await writeTree(root, {
      'a.png': pngBytes(1),
      'b.jpg': Buffer.from([0xff, 0xd8, 0xff, 0]),
      'sub/c.png': pngBytes(3),
    });
    const { files, skipped } = await collect(
      scanDirectory(root, { media: 'images', recursive: false, include: ['PNG'] }),
    );
    expect(files.map((f) => f.source)).toEqual(['a.png']);
    expect(skipped).toEqual([
      { source: 'b.jpg', reason: 'not-media', detail: '.jpg is not a kept images extension' },
    ]);
  });

  it('keeps videos in a video run', async () => {
    await writeTree(root, { 'v/a.mp4': fakeMp4(), 'v/b.mkv': 'not matroska', 'p.png': pngBytes(1) });
    const { files, skipped } = await collect(scanDirectory(root, { media: 'videos' }));
    expect(files.map((f) => f.source)).toEqual(['v/a.mp4']);
    expect(skipped.map((s) => s.source)).toEqual(['p.png', 'v/b.mkv']);
  });

  it('fails clearly when the folder is missing or is a file', async () => {
    const missing = join(root, 'nope');
    await expect(collect(scanDirectory(missing, { media: 'images' }))).rejects.toThrow(
      `folder "${missing}" does not exist`,
    );
    const file = join(root, 'f.png');
    await writeFile(file, pngBytes(1));
    const error = await collect(scanDirectory(file, { media: 'images' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RfbatchError);
    expect((error as RfbatchError).retryable).toBe(false);
    expect((error as RfbatchError).message).toBe(`"${file}" is not a folder`);
  });

  it('streams a wide folder', async () => {
    await mkdir(join(root, 'wide'));
    const png = pngBytes(9);
    await Promise.all(Array.from({ length: 300 }, (_, i) => writeFile(join(root, 'wide', `${i}.png`), png)));
    const { files } = await collect(scanDirectory(root, { media: 'images' }));
    expect(files).toHaveLength(300);
  });
});
