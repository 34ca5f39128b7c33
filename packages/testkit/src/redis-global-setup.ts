/**
 * The vitest global setup (vitest.config.ts): one Redis for the whole test run, given to the test
 * files as `inject('redisUrl')` (see redis.ts): REDIS_URL, else a private redis-server, else a
 * container, else fail with how to get one.
 */
import type { TestProject } from 'vitest/node';
import { hasRedisServerBinary, HOW_TO_GET_REDIS, spawnRedis, type RedisHandle } from '@rfbatch/shared';

/**
 * Finds a Redis for tests: REDIS_URL if set; else a private redis-server; else a testcontainers Redis
 * when a Docker engine answers; else an error that says how to get one.
 */
async function redisForTests(env = process.env): Promise<RedisHandle> {
  if (env.REDIS_URL) return { url: env.REDIS_URL, origin: 'env', stop: async () => {} };
  if (hasRedisServerBinary()) return spawnRedis();
  try {
    const { RedisContainer } = await import('@testcontainers/redis');
    const container = await new RedisContainer('redis:7-alpine').start();
    return {
      url: container.getConnectionUrl(),
      origin: 'container',
      stop: async () => void (await container.stop()),
    };
  } catch (error) {
    throw new Error(
      `no Redis for the tests: REDIS_URL is not set, redis-server is not on PATH, and no Docker engine answered ` +
        `(${error instanceof Error ? error.message.split('\n')[0] : String(error)}); ${HOW_TO_GET_REDIS}`,
    );
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const redis = await redisForTests();
  // Typed by the ProvidedContext augmentation in redis.ts (read with inject('redisUrl')).
  (project.provide as (key: string, value: string) => void)('redisUrl', redis.url);
  return () => redis.stop();
}
