import { mkdtempSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { pack, type Header } from 'tar-stream';
import { safeEntryPath, safeExtract, UnsafeArchiveError } from './safe-extract.js';

const root = mkdtempSync(join(tmpdir(), 'rfb-extract-'));
afterAll(() => rm(root, { recursive: true, force: true }));

type Member = Partial<Header> & { name: string; body?: string | Buffer };

async function tarOf(members: Member[], gzip: boolean): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((r) => p.on('end', () => r()));
  for (const { body, ...header } of members) {
    await new Promise<void>((res, rej) => p.entry(header, body ?? '', (err) => (err ? rej(err) : res())));
  }
  p.finalize();
  await done;
  const tar = Buffer.concat(chunks);
  return gzip ? gzipSync(tar) : tar;
}

let n = 0;
/** A fresh case folder: `<case>/archive.tar(.gz)` and `<case>/out/` as the output folder. */
async function setup(members: Member[], gzip = true) {
  const dir = join(root, `case-${n++}`);
  await mkdir(join(dir, 'out'), { recursive: true });
  const archive = join(dir, gzip ? 'a.tar.gz' : 'a.tar');
  await writeFile(archive, await tarOf(members, gzip));
  return { dir, archive, out: join(dir, 'out'), dest: join(dir, 'out', 'part', 'a') };
}

async function refused(members: Member[], entry: string, why: RegExp, limits = {}) {
  const c = await setup(members);
  const error = await safeExtract(c.archive, c.dest, { label: 'a.tar.gz', limits }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(UnsafeArchiveError);
  expect((error as UnsafeArchiveError).entry).toBe(entry);
  expect((error as Error).message).toContain(`entry "${entry}"`);
  expect((error as Error).message).toMatch(why);
  // Nothing was left anywhere: not in the output folder, not beside the case folder.
  expect(await readdir(c.out, { recursive: true })).toEqual(
    expect.not.arrayContaining([expect.stringMatching(/evil|partial|x\.txt/)]),
  );
  expect((await readdir(c.dir)).sort()).toEqual(['a.tar.gz', 'out']);
  expect(await readdir(root)).not.toContain('evil.txt');
  return c;
}

describe('safeEntryPath', () => {
  it('normalises harmless names and refuses escaping ones', () => {
    expect(safeEntryPath('./a/./b.jsonl')).toEqual({ path: 'a/b.jsonl' });
    expect(safeEntryPath('..hidden/x')).toEqual({ path: '..hidden/x' });
    expect(safeEntryPath('a/../../x')).toEqual({ refused: 'the path climbs out with ".."' });
    expect(safeEntryPath('a\\..\\x')).toEqual({ refused: 'the path climbs out with ".."' });
    expect(safeEntryPath('/etc/passwd')).toEqual({ refused: 'absolute path' });
    expect(safeEntryPath('C:/x')).toEqual({ refused: 'absolute path' });
    expect(safeEntryPath('a\0b')).toEqual({ refused: 'the name contains a NUL byte' });
  });
});

describe('safeExtract', () => {
  it('extracts a .tar.gz and a plain .tar into place', async () => {
    for (const gzip of [true, false]) {
      const c = await setup(
        [
          { name: 'results/', type: 'directory' },
          { name: 'results/shard-1.jsonl', body: '{"a":1}\n' },
          { name: './top.csv', body: 'x,y\n1,2\n', mode: 0o4777 },
        ],
        gzip,
      );
      const result = await safeExtract(c.archive, c.dest);
      expect(result).toEqual({ files: 2, bytes: 16 });
      expect(await readFile(join(c.dest, 'results/shard-1.jsonl'), 'utf8')).toBe('{"a":1}\n');
      expect(await readFile(join(c.dest, 'top.csv'), 'utf8')).toBe('x,y\n1,2\n');
      expect(await readdir(join(c.out, 'part'))).toEqual(['a']);
    }
  });

  it('replaces an earlier extraction and ignores a leftover staging folder', async () => {
    const c = await setup([{ name: 'r.jsonl', body: 'new\n' }]);
    await mkdir(c.dest, { recursive: true });
    await writeFile(join(c.dest, 'stale.txt'), 'old');
    await safeExtract(c.archive, c.dest);
    expect(await readdir(c.dest)).toEqual(['r.jsonl']);
  });

  it('refuses path traversal', async () => {
    await refused(
      [
        { name: 'ok.jsonl', body: 'x' },
        { name: '../../evil.txt', body: 'pwned' },
      ],
      '../../evil.txt',
      /climbs out/,
    );
  });

  it('refuses an absolute path', async () => {
    await refused([{ name: `${root}/evil.txt`, body: 'pwned' }], `${root}/evil.txt`, /absolute path/);
  });

  it('refuses symlinks, hard links and devices', async () => {
    await refused(
      [{ name: 'x.txt', type: 'symlink', linkname: '/etc/passwd' }],
      'x.txt',
      /symlink to "\/etc\/passwd"/,
    );
    await refused([{ name: 'x.txt', type: 'link', linkname: '../evil.txt' }], 'x.txt', /hard link/);
    await refused(
      [{ name: 'x.txt', type: 'character-device', devmajor: 1, devminor: 3 }],
      'x.txt',
      /type character-device/,
    );
    await refused([{ name: 'x.txt', type: 'fifo' }], 'x.txt', /type fifo/);
  });

  it('refuses a decompression bomb and an archive over the byte cap', async () => {
    const zeros = Buffer.alloc(4 * 1024 * 1024);
    await refused([{ name: 'x.txt', body: zeros }], 'x.txt', /expands beyond/, {
      ratioFloorBytes: 1024 * 1024,
      maxRatio: 50,
    });
    await refused(
      [
        { name: 'ok.txt', body: 'abc' },
        { name: 'x.txt', body: 'more than ten bytes' },
      ],
      'x.txt',
      /expands beyond 10 bytes/,
      {
        maxTotalBytes: 10,
      },
    );
  });

  it('says a damaged archive is damaged, as a retryable error', async () => {
    const c = await setup([{ name: 'r.jsonl', body: 'x'.repeat(5000) }]);
    const whole = await readFile(c.archive);
    await writeFile(c.archive, whole.subarray(0, whole.length - 40));
    const error = await safeExtract(c.archive, c.dest, { label: 'a.tar.gz' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'download.failed', retryable: true });
    expect(await readdir(join(c.out, 'part'))).toEqual([]);
  });

  it('extracts from a stream as from a file, whatever the sync policy', async () => {
    const members = [
      { name: 'r/a.jsonl', body: 'a'.repeat(3000) },
      { name: 'r/b.bin', body: Buffer.alloc(70_000, 7) },
    ];
    const c = await setup(members);
    const bytes = await readFile(c.archive);
    for (const sync of ['filesystem', 'files', 'none'] as const) {
      // In small chunks and without a size, as a download without Content-Length arrives.
      const chunks = Array.from({ length: Math.ceil(bytes.length / 1000) }, (_, i) =>
        bytes.subarray(i * 1000, (i + 1) * 1000),
      );
      const dest = join(c.out, sync);
      expect(await safeExtract({ body: Readable.from(chunks), size: undefined }, dest, { sync })).toEqual({
        files: 2,
        bytes: 73_000,
      });
      expect((await readFile(join(dest, 'r', 'b.bin'))).equals(members[1]!.body as Buffer)).toBe(true);
    }
    expect((await readdir(c.out)).sort()).toEqual(['files', 'filesystem', 'none']);
  });

  it('archives finishing together share filesystem syncs, small and large entries alike', async () => {
    const big = Buffer.alloc(1_500_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) % 251;
    const members = [
      { name: 'r/small.json', body: '{"a":1}' },
      { name: 'r/large.bin', body: big },
    ];
    const c = await setup(members);
    const dests = Array.from({ length: 8 }, (_, i) => join(c.out, `p${i}`));
    const results = await Promise.all(dests.map((d) => safeExtract(c.archive, d, { sync: 'filesystem' })));
    for (const [i, r] of results.entries()) {
      expect(r).toEqual({ files: 2, bytes: 7 + big.length });
      expect((await readFile(join(dests[i]!, 'r', 'large.bin'))).equals(big)).toBe(true);
      expect(await readFile(join(dests[i]!, 'r', 'small.json'), 'utf8')).toBe('{"a":1}');
    }
    expect((await readdir(c.out)).sort()).toEqual(dests.map((d) => d.slice(c.out.length + 1)).sort());
  });

  it('a stream of unknown size is held to the ratio of the bytes read so far', async () => {
    const c = await setup([{ name: 'x.txt', body: Buffer.alloc(4 * 1024 * 1024) }]);
    const body = Readable.from([await readFile(c.archive)]);
    const error = await safeExtract({ body, size: undefined }, c.dest, {
      label: 'a.tar.gz',
      limits: { ratioFloorBytes: 1024 * 1024, maxRatio: 50 },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsafeArchiveError);
    expect((error as Error).message).toMatch(/expands beyond/);
    expect(await readdir(join(c.out, 'part'))).toEqual([]);
  });

  it('a stream that fails midway leaves nothing', async () => {
    const c = await setup([{ name: 'r.jsonl', body: 'x'.repeat(50_000) }], false);
    const bytes = await readFile(c.archive);
    async function* broken() {
      yield bytes.subarray(0, 20_000);
      throw new Error('the connection broke');
    }
    const error = await safeExtract({ body: Readable.from(broken()), size: bytes.length }, c.dest, {
      label: 'a.tar',
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'download.failed', retryable: true });
    expect((error as Error).message).toContain('the connection broke');
    expect(await readdir(join(c.out, 'part'))).toEqual([]);
  });
});
