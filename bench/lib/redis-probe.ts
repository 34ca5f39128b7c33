/**
 * Redis measurements for benchmarks, on a private Redis the benchmark owns: command counts from
 * INFO commandstats (reset per measurement), memory from INFO memory, and the bytes held by one
 * prefix's keys (MEMORY USAGE of each). The probe counts its own commands and leaves them out.
 */
import { Redis } from 'ioredis';

export interface CommandCounts {
  total: number;
  byCommand: Record<string, number>;
}

/** Commands that commandstats reports per subcommand (`config|resetstat`). */
const SUBCOMMANDS = new Set([
  'config',
  'memory',
  'client',
  'object',
  'xinfo',
  'script',
  'command',
  'function',
  'cluster',
  'acl',
  'slowlog',
  'xgroup',
]);

export class RedisProbe {
  readonly redis: Redis;
  /** Commands this probe sent since the last reset (subtracted from commandstats). */
  private own = new Map<string, number>();

  constructor(url: string) {
    this.redis = new Redis(url, { maxRetriesPerRequest: 3 });
    // Everything sent on this connection is the benchmark's own (status polls, probes): counted here
    // and subtracted, so the figures are rfbatch's alone.
    const send = this.redis.sendCommand.bind(this.redis);
    this.redis.sendCommand = (command, stream) => {
      const name = command.name.toLowerCase();
      const sub = SUBCOMMANDS.has(name) ? String(command.args[0] ?? '').toLowerCase() : '';
      this.count(sub ? `${name}|${sub}` : name);
      return send(command, stream);
    };
  }

  private count(cmd: string, n = 1): void {
    this.own.set(cmd, (this.own.get(cmd) ?? 0) + n);
  }

  /** Zeroes the server's command statistics (and this probe's own count). */
  async resetStats(): Promise<void> {
    await this.redis.config('RESETSTAT');
    // Redis counts a command after running it: RESETSTAT shows up once in the fresh statistics.
    this.own = new Map([['config|resetstat', 1]]);
  }

  /** Commands served since the last reset, without this probe's own. */
  async commands(): Promise<CommandCounts> {
    // This INFO is not yet in the statistics it returns.
    const own = new Map(this.own);
    const info = await this.redis.info('commandstats');
    const byCommand: Record<string, number> = {};
    for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
      const name = m[1]!.toLowerCase();
      const calls = Number(m[2]) - (own.get(name) ?? 0);
      if (calls > 0) byCommand[name] = calls;
    }
    const total = Object.values(byCommand).reduce((s, n) => s + n, 0);
    const sorted = Object.fromEntries(Object.entries(byCommand).sort((a, b) => b[1] - a[1]));
    return { total, byCommand: sorted };
  }

  /** `used_memory` in bytes. */
  async usedMemory(): Promise<number> {
    const info = await this.redis.info('memory');
    return Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? Number.NaN);
  }

  /** Keys under `<prefix>:` and the bytes they hold (MEMORY USAGE, all samples). */
  async prefixMemory(prefix: string): Promise<{ keys: number; bytes: number }> {
    let cursor = '0';
    let keys = 0;
    let bytes = 0;
    do {
      const [next, batch] = await this.redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (batch.length === 0) continue;
      const pipe = this.redis.pipeline();
      for (const key of batch) pipe.memory('USAGE', key, 'SAMPLES', 0);
      const results = (await pipe.exec()) ?? [];
      keys += batch.length;
      for (const [, value] of results) bytes += typeof value === 'number' ? value : 0;
    } while (cursor !== '0');
    return { keys, bytes };
  }

  /** Deletes every key under `<prefix>:`. */
  async dropPrefix(prefix: string): Promise<void> {
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (batch.length) {
        await this.redis.unlink(...batch);
      }
    } while (cursor !== '0');
  }

  close(): void {
    this.redis.disconnect();
  }
}
