import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pngBytes } from '@rfbatch/testkit/images';
import { startHarness, type Harness } from '@rfbatch/testkit/ingest-harness';
import { writeTree } from '@rfbatch/testkit/source-tree';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function body(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
}

describe('ingest notifications', () => {
  it('puts notification_config.json in each shard when a public URL is configured, and the API calls the gateway back', async () => {
    const received: { path: string; payload: Record<string, unknown> }[] = [];
    const gateway = createServer((req, res) => {
      void body(req).then((payload) => {
        received.push({ path: req.url ?? '', payload });
        res.end('{}');
      });
    });
    await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', r));
    const secret = 'webhook-secret-0123456789';
    try {
      h = await startHarness({
        env: {
          RFBATCH_PUBLIC_URL: `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`,
          RFBATCH_WEBHOOK_SECRET: secret,
        },
      });
      const src = join(h.dir, 'src');
      await writeTree(
        src,
        Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`${i}.png`, pngBytes(i)])),
      );
      const runId = await h.submit(
        h.spec({ kind: 'directory', path: src }, { upload: { shardMaxImages: 20 } }),
      );
      const state = await h.waitFor(runId, ['verifying']);
      // The config member is not an item: exactly the 40 images count.
      const spec = await h.ctx.store.spec(runId);
      expect(await h.ctx.client.countBatch(spec.batchId)).toBe(40);
      expect(state.counters.expected).toBe(40);
      await expect.poll(() => received.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
      for (const r of received) {
        expect(r.path).toBe(`/webhooks/roboflow/${secret}`);
        expect(r.payload).toMatchObject({
          type: 'roboflow-data-staging-notification-v1',
          ingest_id: `rfb-${runId}`,
          batch_id: spec.batchId,
        });
      }
      // The secret went to the API inside the tar, never into Redis.
      const keys = await h.ctx.connection.keys(`${h.prefix}:*`);
      for (const key of keys) {
        if ((await h.ctx.connection.type(key)) !== 'hash') continue;
        expect(JSON.stringify(await h.ctx.connection.hgetall(key))).not.toContain(secret);
      }
    } finally {
      gateway.close();
    }
  });
});
