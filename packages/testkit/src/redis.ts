/**
 * Redis in a test file: the URL of the test run's one Redis (found or started by
 * `redis-global-setup.ts`), a key prefix of the file's own, and the clean-up of that prefix.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { deletePrefix } from '@rfbatch/shared';

/** The Redis URL the global setup found or started. */
export function testRedisUrl(): string {
  return inject('redisUrl');
}

/** A BullMQ/RunStore prefix of this test file's own, so files never see each other's keys. */
export function testPrefix(label = 't'): string {
  return `rfbt-${label}-${randomBytes(4).toString('hex')}`;
}

/** Deletes every key under `prefix` (call in afterAll). */
export async function cleanupPrefix(prefix: string, url = testRedisUrl()): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    await deletePrefix(redis, prefix);
  } finally {
    redis.disconnect();
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}
