import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  closeServiceContext,
  createLogger,
  createServiceContext,
  loadConfig,
  uploadToSignedUrl,
  type RunningService,
  type ServiceContext,
  type UploadToSignedUrl,
} from '@rfbatch/shared';
import { pngBytes } from '@rfbatch/testkit/images';
import { startHarness, type Harness } from '@rfbatch/testkit/ingest-harness';
import { writeTree } from '@rfbatch/testkit/source-tree';
import type { IngestOptions } from './options.js';
import { startIngest } from './service.js';

let h: Harness | undefined;
const extra: { service: RunningService; ctx: ServiceContext }[] = [];
afterEach(async () => {
  for (const { service, ctx } of extra.splice(0)) {
    await service.close();
    await closeServiceContext(ctx);
  }
  await h?.close();
  h = undefined;
});

describe('an upload cap shared by several ingest processes', () => {
  it('keeps the streams of two services (32 jobs each) at the shared cap, and stages every file', async () => {
    // PUTs that take a while (200 KB/s per connection), so many would overlap without the cap.
    let now = 0;
    let most = 0;
    const by = [0, 0];
    const counting =
      (service: number): UploadToSignedUrl =>
      async (details, body, length, opts) => {
        most = Math.max(most, ++now);
        by[service]!++;
        try {
          await uploadToSignedUrl(details, body, length, opts);
        } finally {
          now--;
        }
      };
    h = await startHarness({
      emulator: { throttleBytesPerSecond: 200_000 },
      ingest: { sharedUploads: 3, upload: counting(0) },
    });
    const ctx = createServiceContext(loadConfig(h.env), createLogger({ level: 'silent', name: 'second' }));
    const second: IngestOptions = { sharedUploads: 3, upload: counting(1) };
    extra.push({ ctx, service: await startIngest(ctx, second) });

    const src = join(h.dir, 'src');
    await writeTree(
      src,
      Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`d${i % 4}/p${i}.png`, pngBytes(i, 6_000)])),
    );
    const runId = await h.submit(
      h.spec({ kind: 'directory', path: src }, { upload: { shardMaxImages: 16 } }),
    );
    const state = await h.waitFor(runId, ['verifying'], 60_000);

    expect(state.counters).toMatchObject({ expected: 400, shardsUploaded: 25, filesUploaded: 400 });
    expect(most).toBe(3);
    // Both processes sent shards: the cap is shared, not one process holding all of it.
    expect(by[0]).toBeGreaterThan(0);
    expect(by[1]).toBeGreaterThan(0);
    const spec = await h.ctx.store.spec(runId);
    expect(await h.ctx.client.countBatch(spec.batchId)).toBe(400);
    expect(await h.ctx.store.redis.exists(`${h.prefix}:slots:uploads`)).toBe(0);
  });
});
