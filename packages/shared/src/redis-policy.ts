import type { Redis } from 'ioredis';
import { ConfigError } from './errors.js';

/**
 * Redis must keep every key: run state, queues and locks are not a cache. With an eviction policy
 * other than `noeviction` a full Redis silently drops runs (and BullMQ's locks) instead of refusing
 * writes. Workers and the gateway refuse to start then, unless the operator insists
 * (RFBATCH_ALLOW_EVICTION=true).
 */
export interface EvictionPolicy {
  /** `noeviction`, `allkeys-lru`, …; `unknown` when Redis does not say (CONFIG is disabled). */
  policy: string;
  ok: boolean;
}

export async function readEvictionPolicy(redis: Redis): Promise<EvictionPolicy> {
  try {
    const reply = (await redis.config('GET', 'maxmemory-policy')) as string[];
    const policy = reply[1] ?? 'unknown';
    return { policy, ok: policy === 'noeviction' };
  } catch {
    // Managed Redis often disables CONFIG; INFO memory says it too.
    const info = await redis.info('memory').catch(() => '');
    const policy = /maxmemory_policy:(\S+)/.exec(info)?.[1] ?? 'unknown';
    return { policy, ok: policy === 'noeviction' || policy === 'unknown' };
  }
}

/** Throws a ConfigError unless the policy is `noeviction` or `allowEviction` is set. */
export async function requireNoEviction(redis: Redis, allowEviction: boolean): Promise<EvictionPolicy> {
  const found = await readEvictionPolicy(redis);
  if (!found.ok && !allowEviction)
    throw new ConfigError([
      {
        path: 'maxmemory-policy',
        message: `Redis evicts keys (maxmemory-policy is "${found.policy}"): runs and queue locks would be lost when it fills up; set \`maxmemory-policy noeviction\` (or RFBATCH_ALLOW_EVICTION=true to start anyway)`,
      },
    ]);
  return found;
}

/**
 * A Redis Cluster node reached without cluster mode answers MOVED to most keys, and a prefix without
 * a hash tag spreads a queue's keys over slots that BullMQ's scripts cannot use together: both are
 * refused at start, saying what to set. (Cluster mode itself requires the hash tag in loadConfig.)
 */
export async function requireRedisMode(
  redis: Redis,
  redisConfig: { mode: string; prefix: string },
): Promise<void> {
  if (redisConfig.mode === 'cluster') return;
  const info = await redis.info('cluster').catch(() => '');
  if (!/cluster_enabled:1/.test(info)) return;
  const tagged = /^\{.+\}$/.test(redisConfig.prefix);
  throw new ConfigError([
    {
      path: 'RFBATCH_REDIS_MODE',
      message: `REDIS_URL is a node of a Redis Cluster: set RFBATCH_REDIS_MODE=cluster${tagged ? '' : ` and a hash-tagged prefix (RFBATCH_PREFIX={${redisConfig.prefix}}; "${redisConfig.prefix}" has no hash tag, so a queue's keys would be in different slots)`}`,
    },
  ]);
}
