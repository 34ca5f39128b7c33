/** `npm run demo` in this process (a smaller sample): sample images → emulator → workers + gateway → results. */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { runDemo } from '@rfbatch/cli';
import { testRedisUrl } from '@rfbatch/testkit/redis';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('the demo', () => {
  it('generates real images, runs them end to end and prints the summary, results and board URL', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rfb-demo-'));
    dirs.push(dir);
    let stdout = '';
    let stderr = '';
    const result = await runDemo(
      {
        stdout: { write: (s: string) => (stdout += s) },
        stderr: { write: (s: string) => (stderr += s) },
        env: { REDIS_URL: testRedisUrl(), LOG_LEVEL: 'error' },
        cwd: dir,
        signal: new AbortController().signal,
      },
      { images: 30 },
    );
    expect(result.status).toBe('completed');
    expect(stderr).toMatch(/sample: 30 images \(\d+ PNG, \d+ JPEG/);
    expect(stdout).toContain(`✓ run ${result.runId} completed`);
    expect(stdout).toContain('30 source files · 30 results · 0 missing · 0 skipped');
    expect(stdout).toContain(`Bull Board    ${result.boardUrl}`);
    expect(stdout).toMatch(/wall time\s+\S+ \(\d+ ms\)/);

    // Real PNG and JPEG files in nested folders.
    const files = (await readdir(join(dir, '.rfbatch/demo/sample'), { recursive: true })).filter((f) =>
      /\.(png|jpg)$/.test(f),
    );
    expect(files).toHaveLength(30);
    const png = files.find((f) => f.endsWith('.png')) ?? '';
    const jpg = files.find((f) => f.endsWith('.jpg')) ?? '';
    expect((await readFile(join(dir, '.rfbatch/demo/sample', png))).subarray(1, 4).toString()).toBe('PNG');
    expect([...(await readFile(join(dir, '.rfbatch/demo/sample', jpg))).subarray(0, 3)]).toEqual([
      0xff, 0xd8, 0xff,
    ]);
    expect(files.some((f) => f.split('/').length > 2)).toBe(true);

    const lines = (await readFile(join(result.resultsDir, 'results.jsonl'), 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(30);

    // The demo's own Redis keys are gone.
    const redis = new Redis(testRedisUrl());
    try {
      expect(await redis.keys(`${result.prefix}:*`)).toEqual([]);
    } finally {
      redis.disconnect();
    }
  });
});
