/** Test support: the shared Redis of the test run and per-file prefixes. Import from '@rfbatch/shared/testing'. */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { inject } from 'vitest';

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
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

// A recording node:http server on port 0, a log-capturing logger and an error flattener for secret checks.
export { captureLogger, everythingShown, json, startTestServer } from './roboflow/test-server.js';
export type { RecordedRequest, TestHandler, TestServer } from './roboflow/test-server.js';
