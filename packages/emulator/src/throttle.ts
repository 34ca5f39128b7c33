/** A per-stream bandwidth cap (for scale benchmarks that want upload/download to cost time). */
import { Transform } from 'node:stream';
import type { Clock } from './clock.js';

/** Passes chunks on no faster than `bytesPerSecond` on `clock`, counted from the stream's creation. */
export function throttle(bytesPerSecond: number, clock: Clock): Transform {
  const start = clock.now();
  let sent = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, callback) {
      sent += chunk.length;
      const dueMs = (sent / bytesPerSecond) * 1000 - (clock.now() - start);
      if (dueMs > 1) clock.setTimeout(() => callback(null, chunk), dueMs);
      else callback(null, chunk);
    },
  });
}
