import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pack } from 'tar-stream';
import { pngBytes, writeTree } from '@rfbatch/ingest/testing';
import { spawnRedis, uploadToSignedUrl } from '@rfbatch/shared';
import { startStack } from '../helpers/stack.js';

const N = 10_000;
const prod = process.env.PROD === '1';
const INDEXING = 1000;
const redis = await spawnRedis();
const stack = await startStack({
  redisUrl: redis.url,
  emulator: { indexingDelayMs: INDEXING, processingMsPerItem: 0, jobStartDelayMs: 200 },
  ...(prod ? { jobs: { pollMinMs: 1000, pollMaxMs: 30_000 }, export: { retryDelayMs: 500 } } : {}),
});
const files: Record<string, Buffer> = {};
for (let i = 0; i < N; i++) files[`d${i % 50}/img-${i}.png`] = pngBytes(i);
const dir = join(stack.workDir, 'src');
await writeTree(dir, files);
const t0 = Date.now();
const runId = await stack.submit({ source: { kind: 'directory', path: dir } });
const state = await stack.waitForRun(runId, 600_000);
const total = Date.now() - t0;
const spec = await stack.ctx.store.spec(runId);
const { job } = await stack.ctx.client.getJob(spec.jobId);
const remoteMs = job ? Date.parse(job.lastUpdate) - Date.parse(job.createdAt) : NaN;
const stages = Object.fromEntries(
  Object.entries(state.timings).map(([k, v]) => [k, v.endedAt ? Date.parse(v.endedAt) - Date.parse(v.startedAt) : null]),
);
// Baselines: the same shard bytes PUT straight to the emulator (4 at once), the same archives GET.
const tars: Buffer[] = [];
for (let s = 0; s < N; s += 500) {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => chunks.push(c as Buffer));
  const ended = new Promise((res) => p.on('end', res));
  for (let i = s; i < Math.min(N, s + 500); i++) {
    const body = pngBytes(i);
    await new Promise<void>((res, rej) => p.entry({ name: `b-${i}.png`, size: body.length }, body, (e) => (e ? rej(e) : res())));
  }
  p.finalize();
  await ended;
  tars.push(Buffer.concat(chunks));
}
const b0 = Date.now();
let next = 0;
await Promise.all(
  Array.from({ length: 4 }, async () => {
    while (next < tars.length) {
      const tar = tars[next++] as Buffer;
      const details = await stack.ctx.client.requestShardUploadUrl('baseline-batch');
      await uploadToSignedUrl(details, Readable.from(tar), tar.length);
    }
  }),
);
const putMs = Date.now() - b0;
const g0 = Date.now();
const urls: string[] = [];
for await (const f of stack.ctx.client.listFiles(`${spec.jobId}-export`, { partName: 'results' })) urls.push(f.downloadURL);
await Promise.all(urls.map(async (u) => (await fetch(u)).arrayBuffer()));
const getMs = Date.now() - g0;
const waitingMs = INDEXING + remoteMs + putMs + getMs;
console.log(JSON.stringify({ prod, status: state.status, totalMs: total, stages, remoteJobMs: remoteMs, indexingMs: INDEXING, baselinePutMs: putMs, baselineGetMs: getMs, overheadMs: total - waitingMs }));
await stack.close();
await redis.stop();
process.exit(0);
