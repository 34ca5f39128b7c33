/**
 * Issue 14, point 13: a full disk, on real size-limited filesystems (a small tmpfs mounted for each
 * case; needs root). In the plan step, the collect step and an archive's extraction, the error names
 * the path and the filesystem that is full and says to free space (not that a file is damaged), and
 * no temp file is left behind; once space is freed, `retry` completes the run.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { safeExtract } from '@rfbatch/export';
import { retryRun } from '@rfbatch/run-control';
import { runPaths } from '@rfbatch/shared';
import { pngBytes } from '@rfbatch/testkit/images';
import { writeTree } from '@rfbatch/testkit/source-tree';
import { startStack, type Stack } from '@rfbatch/testkit/stack';
import { makeTar } from '@rfbatch/testkit/tars';

const mounted: string[] = [];

/** Mounts a tmpfs of `bytes` at `dir` (created). */
async function smallDisk(dir: string, bytes: number): Promise<string> {
  await mkdir(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir]);
  mounted.push(dir);
  return dir;
}

/** Fills the filesystem at `dir` to the last byte; returns the filler's path. */
async function fill(dir: string): Promise<string> {
  const path = join(dir, 'filler');
  const chunk = Buffer.alloc(4096, 1);
  const { open } = await import('node:fs/promises');
  const handle = await open(path, 'w');
  try {
    for (;;) await handle.write(chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    await handle.close();
  }
  return path;
}

/** Names that look like temp files rfbatch left. */
async function temps(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (/\.tmp|\.part|tmp-/.test(e.name)) out.push(e.name);
  }
  return out;
}

const isRoot = process.getuid?.() === 0;

describe.runIf(isRoot)('a full disk', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ emulator: { processingMsPerItem: 400 } });
  });
  afterAll(async () => {
    for (const dir of mounted.splice(0).reverse()) execFileSync('umount', ['-l', dir]);
    await stack.close();
  });

  async function source(name: string, n: number): Promise<string> {
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < n; i++)
      files[`dir-${i % 8}/a-rather-long-file-name-${i}.png`] = pngBytes(`${name}${i}`);
    const dir = join(stack.workDir, name);
    await writeTree(dir, files);
    return dir;
  }

  it('in the plan step: names the manifest and the full filesystem, and leaves no temp file', async () => {
    const runId = `full-plan-${Date.now().toString(36)}`;
    const disk = await smallDisk(runPaths(stack.workDir, runId).dir, 64 * 1024);
    // 1,000 manifest lines of ~200 bytes: more than the 64 KiB the run's folder has.
    await stack.submit({ runId, source: { kind: 'directory', path: await source('plan-src', 1_000) } });
    const state = await stack.waitForRun(runId, 60_000);
    expect(state.status).toBe('failed');
    expect(state.failedStage).toBe('plan');
    expect(state.error?.message).toBe(
      `cannot write "${runPaths(stack.workDir, runId).manifest}": no space is left on the filesystem mounted at "${disk}"`,
    );
    expect(state.error?.hint).toMatch(/^free space on ".*" .*then rfbatch retry the run/);
    expect(state.error?.message).not.toMatch(/damaged|truncated/);
    expect(await temps(disk)).toEqual([]);
  });

  it('in the collect step: names downloads.jsonl and the filesystem, no temp file; retry after freeing space completes', async () => {
    const runId = `full-collect-${Date.now().toString(36)}`;
    const disk = await smallDisk(runPaths(stack.workDir, runId).dir, 256 * 1024);
    await stack.submit({ runId, source: { kind: 'directory', path: await source('collect-src', 4) } });
    // The job is processing (ingest wrote all it writes): now the disk fills up.
    await stack.waitForState(runId, (s) => s.status === 'processing', 30_000);
    const filler = await fill(disk);
    const state = await stack.waitForRun(runId, 60_000);
    expect(state.status).toBe('failed');
    expect(state.error?.message).toBe(
      `cannot write "${runPaths(stack.workDir, runId).downloads}": no space is left on the filesystem mounted at "${disk}"`,
    );
    expect(state.error?.hint).toMatch(/free space on/);
    expect(await temps(disk)).toEqual([]);

    await rm(filler);
    await retryRun(stack.ctx, runId);
    const done = await stack.waitForRun(runId, 60_000);
    expect(done.status).toBe('completed');
    expect(done.counters.results).toBe(4);
  });

  it('during extraction: says the filesystem is full (not that the archive is damaged), and keeps nothing', async () => {
    const work = await mkdtemp(join(tmpdir(), 'rfb-full-'));
    try {
      const members = Array.from({ length: 8 }, (_, i) => ({
        name: `pred/${i}.jsonl`,
        data: Buffer.alloc(40 * 1024, 65 + i),
      }));
      const archive = join(work, 'out.tar');
      await writeFile(archive, await makeTar(members));
      const disk = await smallDisk(join(work, 'disk'), 128 * 1024);
      const error = await safeExtract(archive, join(disk, 'outputs', 'out')).then(
        () => undefined,
        (e: unknown) => e as Error & { hint?: string },
      );
      expect(error?.message).toMatch(
        new RegExp(
          `^cannot write ".*out\\.partial-[0-9a-f]+": no space is left on the filesystem mounted at "${disk}"$`,
        ),
      );
      expect(error?.hint).toMatch(/free space on/);
      expect(`${error?.message} ${error?.hint}`).not.toMatch(/damaged|truncated/);
      expect(await readdir(join(disk, 'outputs'))).toEqual([]);
    } finally {
      const i = mounted.indexOf(join(work, 'disk'));
      if (i >= 0) execFileSync('umount', ['-l', mounted.splice(i, 1)[0]!]);
      await rm(work, { recursive: true, force: true });
    }
  });
});
