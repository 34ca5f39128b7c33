/** State survives a restart with the same data dir; the bin starts, announces itself and stops on SIGTERM. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRoboflowClient, uploadToSignedUrl, type JobBody } from '@rfbatch/shared';
import { startEmulator } from './index.js';
import { ManualClock } from './manual-clock.js';
import { BP, DS, imageJobBody, rawApi } from '@rfbatch/testkit/emulator';
import { pngHeader } from '@rfbatch/testkit/images';
import { makeTar } from '@rfbatch/testkit/tars';
import { waitFor } from '@rfbatch/testkit/wait-for';

let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'rfbatch-emulator-persist-'));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const clientFor = (url: string) =>
  createRoboflowClient({ apiUrl: url, apiKey: 'k', retry: { maxAttempts: 1 } });

describe('restart with the same data dir', () => {
  it('keeps batches, files, jobs, logs and outputs; resumes pending indexing and running jobs', async () => {
    const first = await startEmulator({
      dataDir,
      indexingDelayMs: 0,
      processingMsPerItem: 0,
      jobStartDelayMs: 0,
    });
    const c1 = clientFor(first.url);
    const png = pngHeader(7, 9);
    const tar = await makeTar([
      { name: 'p1.png', data: png },
      { name: 'p2.png', data: pngHeader(8, 8) },
    ]);
    await uploadToSignedUrl(await c1.requestShardUploadUrl('keep-sharded'), Readable.from([tar]), tar.length);
    await c1.uploadImage('keep-simple', 'one.png', { stream: () => Readable.from([png]), size: png.length });
    await c1.startJob('keep-job', imageJobBody('keep-sharded') as JobBody);
    await waitFor(async () => ((await c1.getJob('keep-job')).job?.isTerminal ? true : undefined));
    await c1.close();
    await first.close();
    expect(existsSync(join(dataDir, 'state.json'))).toBe(true);

    // Second life: slow processing and slow indexing, closed mid-way; its clock goes on in the third.
    const clock = new ManualClock();
    const second = await startEmulator({
      dataDir,
      indexingDelayMs: 800,
      processingMsPerItem: 100,
      jobStartDelayMs: 0,
      clock,
    });
    const c2 = clientFor(second.url);
    expect(await c2.countBatch('keep-sharded')).toBe(2);
    expect(await c2.countBatch('keep-simple')).toBe(1);
    const job = await c2.getJob('keep-job');
    expect(job.state.state).toBe('completed');
    const many = await makeTar(
      Array.from({ length: 30 }, (_, i) => ({ name: `m${i}.png`, data: pngHeader(i + 1, 1) })),
    );
    await uploadToSignedUrl(await c2.requestShardUploadUrl('keep-many'), Readable.from([many]), many.length);
    await clock.runUntil(async () => ((await c2.countBatch('keep-many')) === 30 ? true : undefined), {
      stepMs: 100,
    });
    await c2.startJob('resume-job', imageJobBody('keep-many') as JobBody);
    await clock.runUntil(async () =>
      ((await c2.getJob('resume-job')).raw.progress ?? 0) > 0 ? true : undefined,
    );
    const late = await makeTar([{ name: 'late.png', data: png }]);
    await uploadToSignedUrl(await c2.requestShardUploadUrl('keep-late'), Readable.from([late]), late.length);
    expect(await c2.countBatch('keep-late')).toBe(0);
    expect((await c2.getJob('resume-job')).job?.isTerminal).toBe(false);
    await c2.close();
    await second.close();

    const third = await startEmulator({
      dataDir,
      indexingDelayMs: 800,
      processingMsPerItem: 0,
      jobStartDelayMs: 0,
      clock,
    });
    const c3 = clientFor(third.url);
    const api = rawApi(third.url);
    try {
      await clock.runUntil(async () => ((await c3.countBatch('keep-late')) === 1 ? true : undefined), {
        stepMs: 100,
        timeoutMs: 10_000,
        what: 'late shard indexed',
      });
      const resumed = await clock.runUntil(
        async () => {
          const r = await c3.getJob('resume-job');
          return r.job?.isTerminal ? r : undefined;
        },
        { timeoutMs: 20_000, what: 'resumed job' },
      );
      expect(resumed.state.state).toBe('completed');
      const files = [];
      for await (const f of c3.listFiles('keep-simple')) files.push(f);
      const body = Buffer.from(await (await fetch(files[0]?.downloadURL ?? '')).arrayBuffer());
      expect(body.equals(png)).toBe(true);
      const outputs = [];
      for await (const f of c3.listFiles('keep-job-export', { partName: 'results' })) outputs.push(f);
      expect(outputs).toHaveLength(1);
      expect((await fetch(outputs[0]?.downloadURL ?? '')).status).toBe(200);
      expect((await api('GET', `${BP}/jobs/keep-job/logs`)).body.logs.length).toBeGreaterThan(2);
      expect((await api('GET', `${DS}/batches`)).body.batches.length).toBeGreaterThanOrEqual(6);
    } finally {
      await c3.close();
      await third.close();
    }
  });
});

describe('the rfbatch-emulator bin', () => {
  it('prints the URL as its first stdout line, serves, and exits 0 on SIGTERM', async () => {
    const bin = resolve(fileURLToPath(import.meta.url), '../../bin/rfbatch-emulator.js');
    const dir = join(dataDir, 'bin');
    const child = spawn(
      process.execPath,
      [
        bin,
        '--port',
        '0',
        '--data-dir',
        dir,
        '--api-key',
        'bin-key',
        '--workspace',
        'bench',
        '--log-level',
        'warn',
        '--fault-429-rate',
        '0',
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      const lines = createInterface({ input: child.stdout });
      const [line] = (await once(lines, 'line')) as [string];
      expect(line).toMatch(/^emulator listening on http:\/\/127\.0\.0\.1:\d+$/);
      const url = line.replace('emulator listening on ', '');
      expect((await rawApi(url, 'bin-key')('GET', '/')).body).toEqual({ workspace: 'bench' });
      expect((await rawApi(url, 'other')('GET', '/')).status).toBe(401);
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      expect(code).toBe(0);
      expect(existsSync(join(dir, 'state.json'))).toBe(true);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
