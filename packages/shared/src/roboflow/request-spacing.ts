/** Even spacing of API requests (RFBATCH_API_RATE_LIMIT), shared by every call of one client. */
import type { Sleep } from './retry.js';

/**
 * Returns a function to await before each attempt: it takes the next free slot, `1000 / perSecond` ms
 * after the previous one. With `perSecond` 0 or undefined it never waits.
 */
export function createRequestSpacer(perSecond: number | undefined, sleep: Sleep): () => Promise<void> {
  const intervalMs = perSecond ? 1000 / perSecond : 0;
  let nextSlotAt = 0;
  return async function takeSlot(): Promise<void> {
    if (intervalMs <= 0) return;
    const now = performance.now();
    const at = Math.max(now, nextSlotAt);
    nextSlotAt = at + intervalMs;
    if (at > now) await sleep(at - now);
  };
}
