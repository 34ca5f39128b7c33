import type { TestProject } from 'vitest/node';
import { redisForTests } from '@rfbatch/shared';

/** One Redis for the whole test run: REDIS_URL, else a private redis-server, else a container, else fail. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const redis = await redisForTests();
  // Typed by the ProvidedContext augmentation in @rfbatch/shared/testing (read with inject('redisUrl')).
  (project.provide as (key: string, value: string) => void)('redisUrl', redis.url);
  return () => redis.stop();
}
