/** Test support: the shared Redis of the test run and per-file prefixes. Import from '@rfbatch/shared/testing'. */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { deletePrefix } from './redis.js';

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

// A recording node:http server on port 0, a log-capturing logger and an error flattener for secret checks.
export {
  captureLogger,
  everythingShown,
  json,
  secretFreeRejection,
  startTestServer,
} from './roboflow/test-server.js';
export type { RecordedRequest, TestHandler, TestServer } from './roboflow/test-server.js';
