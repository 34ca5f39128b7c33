/**
 * A clock that moves only when told, for tests (`startEmulator({ clock })`): `advance(ms)` runs every
 * timer that falls due, in time order. A timer already due when armed (a zero delay) runs on the next
 * turn of the event loop, as a real one would, so zero delays need no advancing.
 */
import type { Clock, Timer } from './clock.js';

interface Armed {
  dueMs: number;
  /** Set for intervals: re-armed this far ahead each time they run. */
  everyMs: number | null;
  callback: () => void;
}

export interface RunUntilOptions {
  /** Clock time added between two checks. @defaultValue 10 */
  stepMs?: number;
  /** Real time after which to give up (a guard: nothing waits for it). @defaultValue 15_000 */
  timeoutMs?: number;
  /** Named in the timeout error. @defaultValue 'condition' */
  what?: string;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export class ManualClock implements Clock {
  private current: number;
  private readonly armed = new Map<number, Armed>();
  private lastId = 0;

  /** @param startMs the time it shows until advanced. @defaultValue the real time now */
  constructor(startMs = Date.now()) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, delayMs: number): Timer {
    return this.arm(callback, delayMs, null);
  }

  setInterval(callback: () => void, everyMs: number): Timer {
    return this.arm(callback, everyMs, Math.max(1, everyMs));
  }

  /** Moves time forward by `ms`; the code each due timer wakes gets an event-loop turn before the next. */
  async advance(ms: number): Promise<void> {
    const target = this.current + Math.max(0, ms);
    for (let due = this.earliest(target); due; due = this.earliest(target)) {
      this.current = Math.max(this.current, due[1].dueMs);
      this.fire(due[0], due[1]);
      await nextTurn();
    }
    this.current = target;
  }

  /** Advances `stepMs` at a time, an event-loop turn apart, until `check` gives a value other than undefined. */
  async runUntil<T>(
    check: () => Promise<T | undefined> | T | undefined,
    options: RunUntilOptions = {},
  ): Promise<T> {
    const { stepMs = 10, timeoutMs = 15_000, what = 'condition' } = options;
    const startMs = this.current;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what} (after ${this.current - startMs} ms of clock time)`);
      await this.advance(stepMs);
      await nextTurn();
    }
  }

  /** Advances the clock (as `runUntil`) until `promise` settles, then settles like it. */
  async settle<T>(promise: Promise<T>, options: RunUntilOptions = {}): Promise<T> {
    let settled = false;
    const watched = promise.finally(() => {
      settled = true;
    });
    // Handled here so a rejection waits for the return below instead of going unhandled.
    watched.catch(() => undefined);
    await this.runUntil(() => (settled ? true : undefined), { what: 'the promise to settle', ...options });
    return watched;
  }

  private arm(callback: () => void, delayMs: number, everyMs: number | null): Timer {
    const id = ++this.lastId;
    const delay = Math.max(0, Number.isFinite(delayMs) ? delayMs : 0);
    this.armed.set(id, { dueMs: this.current + delay, everyMs, callback });
    if (delay === 0) setImmediate(() => this.runDue());
    return { cancel: () => void this.armed.delete(id) };
  }

  private runDue(): void {
    for (let due = this.earliest(this.current); due; due = this.earliest(this.current))
      this.fire(due[0], due[1]);
  }

  /** The timer due first at or before `limitMs` (the first armed among equals). */
  private earliest(limitMs: number): [number, Armed] | undefined {
    let found: [number, Armed] | undefined;
    for (const entry of this.armed) {
      if (entry[1].dueMs <= limitMs && (!found || entry[1].dueMs < found[1].dueMs)) found = entry;
    }
    return found;
  }

  private fire(id: number, timer: Armed): void {
    if (timer.everyMs === null) this.armed.delete(id);
    else timer.dueMs += timer.everyMs;
    timer.callback();
  }
}
