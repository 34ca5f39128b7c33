import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tar from 'tar-stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { packShard, type TarMember } from './shard-pack.js';
import { tarSize } from './tar-size.js';
import { pngBytes } from '@rfbatch/testkit/images';
import { writeTree } from '@rfbatch/testkit/source-tree';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rfb-tar-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function drain(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function untar(bytes: Buffer): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c) => chunks.push(c as Buffer));
    stream.on('end', () => {
      out.set(header.name, Buffer.concat(chunks));
      next();
    });
  });
  const finished = new Promise<void>((resolve, reject) => {
    extract.on('finish', () => resolve());
    extract.on('error', reject);
  });
  extract.end(bytes);
  await finished;
  return out;
}

describe('tarSize + packShard', () => {
  it('produces exactly the computed number of bytes, and the files round-trip', async () => {
    const sizes = [0, 1, 511, 512, 513, 1024, 70_000, 300_001];
    const files: Record<string, Buffer> = {};
    sizes.forEach((s, i) => (files[`f${i}.bin`] = Buffer.alloc(s, i + 1)));
    files['p.png'] = pngBytes(7);
    await writeTree(dir, files);
    const members: TarMember[] = Object.entries(files).map(([rel, data], i) => ({
      name: i === 0 ? 'n'.repeat(100) : `${rel.replace('.', '-')}-${i}.bin`,
      path: join(dir, rel),
      source: rel,
      size: data.length,
      mtimeMs: 1_700_000_000_000,
    }));
    members.push({ name: 'notification_config.json', data: Buffer.from('{"ingestId":"x"}') });
    let fileBytes = 0;
    const packed = packShard(members, (n) => (fileBytes += n));
    const bytes = await drain(packed.stream);
    expect(bytes.length).toBe(packed.size);
    expect(packed.size).toBe(
      tarSize(members.map((m) => ({ name: m.name, size: 'data' in m ? m.data.length : m.size }))),
    );
    expect(fileBytes).toBe(Object.values(files).reduce((s, b) => s + b.length, 0));
    const back = await untar(bytes);
    expect(back.size).toBe(members.length);
    for (const m of members) {
      const expected = 'data' in m ? m.data : files[m.source]!;
      // Buffer.equals: a deep toEqual over 300 kB is needlessly slow.
      expect(back.get(m.name)?.equals(expected), m.name).toBe(true);
    }
  });

  it('fails naming the file when it changed size since planning', async () => {
    await writeTree(dir, { 'a.png': pngBytes(1), 'b.png': pngBytes(2) });
    await appendFile(join(dir, 'b.png'), 'more');
    const members: TarMember[] = ['a.png', 'b.png'].map((rel, i) => ({
      name: `${i}.png`,
      path: join(dir, rel),
      source: `sub/${rel}`,
      size: pngBytes(1).length,
    }));
    const packed = packShard(members);
    const error = await drain(packed.stream).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(
      /^"sub\/b\.png" changed size since planning \(planned \d+ bytes, now \d+\)/,
    );
  });

  it('fails naming the file, with its size now, when it shrank or grew since planning', async () => {
    const planned = pngBytes(1, 5_000);
    await writeTree(dir, {
      'short.png': planned.subarray(0, 4_000),
      'long.png': Buffer.concat([planned, planned]),
    });
    for (const [rel, now] of [
      ['short.png', 4_000],
      ['long.png', 2 * planned.length],
    ] as const) {
      const packed = packShard([{ name: 'x.png', path: join(dir, rel), source: rel, size: planned.length }]);
      await expect(drain(packed.stream)).rejects.toThrow(
        `"${rel}" changed size since planning (planned ${planned.length} bytes, now ${now})`,
      );
    }
  });

  it('fails when a file disappeared', async () => {
    const packed = packShard([{ name: 'x.png', path: join(dir, 'gone.png'), source: 'gone.png', size: 10 }]);
    await expect(drain(packed.stream)).rejects.toThrow('cannot read "gone.png" (ENOENT)');
  });

  it('refuses a name that would need a PAX header', () => {
    expect(() => tarSize([{ name: 'é.png', size: 1 }])).toThrow('does not fit a ustar header');
    expect(() => tarSize([{ name: 'n'.repeat(101), size: 1 }])).toThrow('does not fit a ustar header');
  });
});
