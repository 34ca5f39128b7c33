import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { ErrorCode, RfbatchError } from './errors.js';

/**
 * Takes a slot when fewer than ARGV[2] live holders are in the set. Scores are lease ends in Redis's
 * own milliseconds (TIME), so the clocks of the machines sharing the slots never matter; a dead
 * holder's slot frees itself when its lease ends. Returns 1 when taken.
 */
const TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) * 2)
return 1`;

/**
 * Extends a held slot's lease (1). A lease that ran out first (a stalled process, a Redis that lost the
 * set) is taken again only while a slot is free (1), else left out (0): the cap stays the cap.
 */
const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local held = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not (held and tonumber(held) > now) then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
return 1`;

export interface SharedSlotsOptions {
  /** The sorted set of holders (`<prefix>:slots:<name>`). */
  key: string;
  /** Slots shared by every process using `key`. */
  limit: number;
  /** What the slots are, in errors and logs ("upload streams"). */
  what: string;
  /** The setting that chose `limit`, named in the error of a wait that ran out. */
  setting: string;
  /** A holder's lease; renewed every third of it while held. @defaultValue 30 s */
  leaseMs?: number;
  /** The longest wait for a slot before it fails (retryable). @defaultValue 10 min */
  maxWaitMs?: number;
  /** Between two tries of this process's first waiter. @defaultValue 100 ms (±50 %) */
  pollMs?: number;
  /**
   * Told at a renewal that found its lease run out (a stall longer than the lease, or a Redis that lost
   * the set) with no slot free to take again: that holder's work goes on beyond the cap until it ends.
   */
  onLeaseLost?: () => void;
}

/**
 * A counting semaphore in Redis that several processes on several machines share: at most `limit`
 * holders at once across all of them. A holder's lease is renewed while it works, so a killed process's
 * slots come back within one lease. Waiters of one process queue in order and only the first of them
 * asks Redis, every `pollMs`, so waiting costs Redis a few calls per second per process.
 */
export class SharedSlots {
  private readonly leaseMs: number;
  private readonly maxWaitMs: number;
  private readonly pollMs: number;
  private readonly waiters: (() => void)[] = [];
  private polling = false;
  private readonly self = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private serial = 0;

  constructor(
    private readonly redis: Redis,
    private readonly options: SharedSlotsOptions,
  ) {
    this.leaseMs = options.leaseMs ?? 30_000;
    this.maxWaitMs = options.maxWaitMs ?? 600_000;
    this.pollMs = options.pollMs ?? 100;
  }

  /** Runs `fn` while holding one slot; waits (bounded, abortable) for one first. */
  async hold<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const holder = `${this.self}:${++this.serial}`;
    // Given back without waiting for the answer (commands of one connection run in order), so a job
    // whose upload is done never waits on Redis; a TAKE whose answer was lost is given back too.
    const giveBack = () => void this.redis.zrem(this.options.key, holder).catch(() => {});
    try {
      await this.take(holder, signal);
    } catch (error) {
      giveBack();
      throw error;
    }
    const renew = setInterval(() => void this.renew(holder), Math.max(50, Math.floor(this.leaseMs / 3)));
    renew.unref();
    try {
      return await fn();
    } finally {
      clearInterval(renew);
      giveBack();
      this.wake();
    }
  }

  /** How many slots are held now (live leases). */
  async held(): Promise<number> {
    const time = await this.redis.time();
    const now = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
    return this.redis.zcount(this.options.key, `(${now}`, '+inf');
  }

  private async take(holder: string, signal: AbortSignal | undefined): Promise<void> {
    const deadline = Date.now() + this.maxWaitMs;
    // Queue behind this process's earlier waiters; the first in line asks Redis.
    if (this.polling || this.waiters.length > 0) await this.queue(signal, deadline);
    this.polling = true;
    try {
      for (;;) {
        signal?.throwIfAborted();
        if (
          (await this.redis.eval(TAKE, 1, this.options.key, holder, this.options.limit, this.leaseMs)) === 1
        )
          return;
        if (Date.now() >= deadline) throw this.waitedTooLong();
        await pause(this.pollMs * (0.5 + Math.random()), signal);
      }
    } finally {
      this.polling = false;
      this.wake();
    }
  }

  /** Resolves when this waiter is first in line; rejects on abort or at the deadline. */
  private queue(signal: AbortSignal | undefined, deadline: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = (error?: unknown) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const at = this.waiters.indexOf(go);
        if (at >= 0) this.waiters.splice(at, 1);
        if (error === undefined) resolve();
        else reject(error instanceof Error ? error : new Error(String(error)));
      };
      const go = () => done();
      const onAbort = () => done(signal?.reason ?? new Error('aborted'));
      const timer = setTimeout(() => done(this.waitedTooLong()), Math.max(0, deadline - Date.now()));
      timer.unref();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(go);
    });
  }

  /**
   * Hands the asking to the next waiter of this process (after a release, or when the asker is done):
   * the role passes at once, so no second asker starts before the woken one runs.
   */
  private wake(): void {
    const next = this.waiters[0];
    if (this.polling || !next) return;
    this.polling = true;
    next();
  }

  private async renew(holder: string): Promise<void> {
    const kept = await this.redis
      .eval(RENEW, 1, this.options.key, holder, this.leaseMs, this.options.limit)
      .catch(() => 1);
    if (kept === 0) this.options.onLeaseLost?.();
  }

  private waitedTooLong(): RfbatchError {
    const minutes = Math.round(this.maxWaitMs / 60_000);
    return new RfbatchError(
      ErrorCode.upload,
      `no free slot among the ${this.options.limit} shared ${this.options.what} after waiting ${minutes < 1 ? `${this.maxWaitMs} ms` : `${minutes} min`}`,
      {
        retryable: true,
        hint: `every slot stayed held by other work; raise ${this.options.setting} or run fewer runs at once (the job is retried)`,
      },
    );
  }
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
