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
