/** Sleeps on the emulator's clock that can all be cut short at once, so closing never waits out a delay. */
import type { Clock, Timer } from '../clock.js';

export class Sleepers {
  private readonly sleeping = new Set<{ timer: Timer; resolve: () => void }>();
  private woken = false;

  constructor(private readonly clock: Clock) {}

  /** Resolves after `ms` on the clock, or at once when not positive or after `wakeAll`. */
  sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.woken) return Promise.resolve();
    return new Promise((resolve) => {
      const sleeper = {
        timer: this.clock.setTimeout(() => {
          this.sleeping.delete(sleeper);
          resolve();
        }, ms),
        resolve,
      };
      this.sleeping.add(sleeper);
    });
  }

  /** Resolves every sleep now; later sleeps resolve at once. */
  wakeAll(): void {
    this.woken = true;
    for (const s of this.sleeping) {
      s.timer.cancel();
      s.resolve();
    }
    this.sleeping.clear();
  }
}
