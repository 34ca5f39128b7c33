/**
 * The emulator's time. Every timestamp it records, every delay, expiry and lifetime it computes and every
 * timer it arms goes through a `Clock`, so a test can move time instead of waiting for it to pass.
 */

/** A timer armed on a clock; cancelling one that has run (or was cancelled) does nothing. */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `callback` once, `delayMs` from now. */
  setTimeout(callback: () => void, delayMs: number): Timer;
  /** Runs `callback` every `everyMs` until cancelled; housekeeping that never keeps the process alive. */
  setInterval(callback: () => void, everyMs: number): Timer;
}

/** Wall-clock time and Node's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(callback, delayMs) {
    const timer = setTimeout(callback, delayMs);
    return { cancel: () => clearTimeout(timer) };
  },
  setInterval(callback, everyMs) {
    const timer = setInterval(callback, everyMs);
    timer.unref();
    return { cancel: () => clearInterval(timer) };
  },
};

/** `ms` since the epoch as an ISO-8601 timestamp (`2026-01-01T00:00:00.000Z`). */
export const isoTime = (ms: number): string => new Date(ms).toISOString();

/** The clock's present as an ISO-8601 timestamp. */
export const nowIso = (clock: Clock): string => isoTime(clock.now());

/** Resolves `ms` from now on `clock`. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}
