import type { Job } from 'bullmq';
import type { RunStore } from '@rfbatch/shared';

const FLUSH_BYTES = 8 * 1024 * 1024;
const FLUSH_MS = 1_000;

/**
 * Byte progress of one upload job: added to the run's `bytesUploaded` counter in steps (every 8 MiB
 * or second, not per chunk) and reported as job progress. A failed try takes its bytes back, so
 * retries do not count twice.
 */
export class ByteProgress {
  private pending = 0;
  private counted = 0;
  private done = 0;
  private lastFlush = Date.now();
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: RunStore,
    private readonly runId: string,
    /** Reports job progress too when given. */
    private readonly job: Job | undefined,
    private readonly totalBytes: number,
  ) {}

  add(bytes: number): void {
    this.pending += bytes;
    if (this.pending >= FLUSH_BYTES || Date.now() - this.lastFlush >= FLUSH_MS) this.schedule();
  }

  private schedule(): void {
    const delta = this.pending;
    this.pending = 0;
    this.lastFlush = Date.now();
    this.counted += delta;
    const progress = { bytes: this.done + this.counted, totalBytes: this.totalBytes };
    this.flushing = this.flushing
      .then(async () => {
        await this.store.incr(this.runId, 'bytesUploaded', delta);
        await this.job?.updateProgress(progress);
      })
      .catch(() => {}); // progress is best-effort; the counters are corrected on commit/rollback
  }

  /** A try failed: forget its bytes. */
  async rollback(): Promise<void> {
    await this.flushing;
    const counted = this.counted;
    this.pending = 0;
    this.counted = 0;
    if (counted) await this.store.incr(this.runId, 'bytesUploaded', -counted);
  }

  /** A unit of `bytes` finished: count exactly its bytes, whatever was reported on the way. */
  async commit(bytes: number): Promise<void> {
    await this.flushing;
    const delta = bytes - this.counted;
    this.pending = 0;
    this.counted = 0;
    this.done += bytes;
    if (delta) await this.store.incr(this.runId, 'bytesUploaded', delta);
    await this.job?.updateProgress({ bytes: this.done, totalBytes: this.totalBytes }).catch(() => {});
  }
}
