import { join } from 'node:path';
import { Transform } from 'node:stream';
import type { Job } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { uploadToSignedUrl } from '@rfbatch/shared';
import { pngBytes } from '@rfbatch/testkit/images';
import { startHarness, type Harness } from '@rfbatch/testkit/ingest-harness';
import { writeTree } from '@rfbatch/testkit/source-tree';

/** Passes bytes on at `bytesPerSecond`, 16 KiB at a time. */
function paced(bytesPerSecond: number): Transform {
  return new Transform({
    highWaterMark: 16 * 1024,
    transform(chunk: Buffer, _encoding, done) {
      const pieces: Buffer[] = [];
      for (let at = 0; at < chunk.length; at += 16 * 1024) pieces.push(chunk.subarray(at, at + 16 * 1024));
      const next = () => {
        const piece = pieces.shift();
        if (!piece) return done();
        this.push(piece);
        setTimeout(next, (piece.length / bytesPerSecond) * 1000);
      };
      next();
    },
  });
}

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('progress within a shard', () => {
  it('moves while the PUT goes on, never backwards, and ends at the shard’s bytes', async () => {
    // The PUT body is taken at 120 KB/s (a slow link; on loopback the kernel's socket buffers would
    // swallow a whole small shard at once): each shard of 4 × 100 KB takes over three seconds, so
    // progress is reported (every second) while its files are still being read.
    h = await startHarness({
      ingest: {
        upload: (details, body, length, opts) =>
          uploadToSignedUrl(details, body.pipe(paced(120_000)), length, opts),
      },
    });
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 8; i++) files[`p/${i}.png`] = pngBytes(`progress-${i}`, 100_000);
    const src = join(h.dir, 'src');
    await writeTree(src, files);
    const seen = new Map<string, { bytes: number; totalBytes: number }[]>();
    for (const worker of h.service!.workers) {
      worker.on('progress', (job: Job, progress: unknown) => {
        if (job.name !== 'shard') return;
        const list = seen.get(job.id!) ?? [];
        list.push(progress as { bytes: number; totalBytes: number });
        seen.set(job.id!, list);
      });
    }
    // More than 32 images go as shards (below that, single uploads).
    const runId = await h.submit(
      h.spec({ kind: 'directory', path: src }, { upload: { shardMaxImages: 4, singleUploadMaxImages: 0 } }),
    );
    await h.waitFor(runId, ['verifying'], 60_000);

    const shardBytes = [0, 1].map((s) =>
      Object.entries(files)
        .slice(s * 4, s * 4 + 4)
        .reduce((sum, [, b]) => sum + b.length, 0),
    );
    expect(seen.size).toBe(2);
    for (const events of seen.values()) {
      const total = events[0]!.totalBytes;
      expect(shardBytes).toContain(total);
      for (const e of events) expect(e.totalBytes).toBe(total);
      const bytes = events.map((e) => e.bytes);
      for (let k = 1; k < bytes.length; k++) expect(bytes[k]).toBeGreaterThanOrEqual(bytes[k - 1]!);
      // Reported on the way (not only at the end), and the last report is the whole shard.
      expect(bytes.some((b) => b > 0 && b < total)).toBe(true);
      expect(bytes.at(-1)).toBe(total);
    }
    const state = await h.ctx.store.require(runId);
    expect(state.counters.bytesUploaded).toBe(shardBytes[0]! + shardBytes[1]!);
  });
});
