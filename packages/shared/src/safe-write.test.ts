import { once } from 'node:events';
import { lstat, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RfbatchError } from './errors.js';
import {
  createAtomicWriteStream,
  createExclusive,
  writeError,
  writeFileAtomic,
  writeLine,
} from './safe-write.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rfb-safe-write-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('safe writes', () => {
  it('replaces a link planted at the target instead of writing through it', async () => {
    const victim = join(dir, 'victim');
    await writeFile(victim, 'precious');
    await symlink(victim, join(dir, 'out.json'));
    await writeFileAtomic(join(dir, 'out.json'), 'new');
    expect(await readFile(victim, 'utf8')).toBe('precious');
    expect((await lstat(join(dir, 'out.json'))).isSymbolicLink()).toBe(false);
    expect(await readFile(join(dir, 'out.json'), 'utf8')).toBe('new');
    expect((await readdir(dir)).sort()).toEqual(['out.json', 'victim']);
  });

  it('streams to a temp file that becomes the target on commit, and is removed on abort', async () => {
    const target = join(dir, 'lines.jsonl');
    const a = await createAtomicWriteStream(target);
    a.stream.write('one\n');
    await a.commit();
    expect(await readFile(target, 'utf8')).toBe('one\n');
    const b = await createAtomicWriteStream(target);
    b.stream.write('two\n');
    await b.abort();
    expect(await readFile(target, 'utf8')).toBe('one\n');
    expect(await readdir(dir)).toEqual(['lines.jsonl']);
  });

  it('a failed stream: writeLine rejects (no hang), abort resolves with the handle closed and the temp file gone', async () => {
    const out = await createAtomicWriteStream(join(dir, 'lines.jsonl'));
    await writeLine(out.stream, 'one\n');
    const closed = once(out.stream, 'close');
    out.stream.destroy(new Error('disk gone'));
    await closed.catch(() => {});
    // The stream emits nothing any more: a wait for 'drain' or 'error' would never end.
    await expect(writeLine(out.stream, 'two\n')).rejects.toThrow('disk gone');
    await out.abort();
    expect(out.stream.closed).toBe(true);
    expect(await readdir(dir)).toEqual([]);
    await expect(out.commit()).rejects.toThrow('disk gone');
  });

  it('writeLine waits out a full buffer without leaving listeners on the stream', async () => {
    const target = join(dir, 'big.jsonl');
    const out = await createAtomicWriteStream(target);
    const before = ['error', 'drain', 'close'].map((e) => out.stream.listenerCount(e));
    const line = `${'x'.repeat(64 * 1024)}\n`;
    for (let i = 0; i < 20; i++) await writeLine(out.stream, line);
    expect(['error', 'drain', 'close'].map((e) => out.stream.listenerCount(e))).toEqual(before);
    await out.commit();
    expect((await readFile(target, 'utf8')).length).toBe(20 * line.length);
  });

  it('creates exclusively: one winner, and a dangling link counts as taken', async () => {
    const marker = join(dir, 'marker');
    expect(await createExclusive(marker, 'a')).toBe(true);
    expect(await createExclusive(marker, 'b')).toBe(false);
    expect(await readFile(marker, 'utf8')).toBe('a');
    await symlink(join(dir, 'nowhere'), join(dir, 'link'));
    expect(await createExclusive(join(dir, 'link'), 'x')).toBe(false);
    expect(await readdir(dir)).not.toContain('nowhere');
  });

  it('turns ENOSPC into an error naming the path and the mount point', () => {
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const error = writeError(enospc, join(dir, 'a', 'b.json'));
    expect(error).toBeInstanceOf(RfbatchError);
    expect(error.message).toMatch(
      new RegExp(`^cannot write ".*b\\.json": no space is left on the filesystem mounted at "/.*"$`),
    );
    expect((error as RfbatchError).hint).toMatch(/free space on/);
  });
});
