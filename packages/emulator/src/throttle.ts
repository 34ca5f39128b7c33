/** A per-stream bandwidth cap (for scale benchmarks that want upload/download to cost time). */
import { Transform } from 'node:stream';

export function throttle(bytesPerSecond: number): Transform {
  const start = Date.now();
  let sent = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, callback) {
      sent += chunk.length;
      const dueMs = (sent / bytesPerSecond) * 1000 - (Date.now() - start);
      if (dueMs > 1) setTimeout(() => callback(null, chunk), dueMs);
      else callback(null, chunk);
    },
  });
}
