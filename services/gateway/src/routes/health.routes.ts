import type { FastifyInstance } from 'fastify';
import { readEvictionPolicy, type ServiceContext } from '@rfbatch/shared';
import { workersByQueue } from '@rfbatch/run-control';

const PING_TIMEOUT_MS = 2_000;

/** GET /healthz (no token): 200 when Redis answers, 503 when not; which queues have live workers. */
export function healthRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  app.get('/healthz', async (_request, reply) => {
    const started = performance.now();
    try {
      // The worker connection waits forever while Redis is away; a health check must not.
      await Promise.race([
        ctx.connection.ping(),
        new Promise((_, reject) =>
          setTimeout(
            () => reject(new Error(`no answer within ${PING_TIMEOUT_MS} ms`)),
            PING_TIMEOUT_MS,
          ).unref(),
        ),
      ]);
    } catch (error) {
      return reply.code(503).send({ ok: false, redis: { ok: false, error: (error as Error).message } });
    }
    const latencyMs = Math.round((performance.now() - started) * 10) / 10;
    const [workers, eviction] = await Promise.all([
      workersByQueue(ctx.queues),
      readEvictionPolicy(ctx.connection),
    ]);
    // An evicting Redis (allowed with RFBATCH_ALLOW_EVICTION) can drop runs: said, not hidden.
    const redis = {
      ok: true,
      latencyMs,
      maxmemoryPolicy: eviction.policy,
      ...(eviction.ok ? {} : { warning: 'Redis may evict keys: runs and queue locks can be lost' }),
    };
    return { ok: true, redis, workers };
  });
}
