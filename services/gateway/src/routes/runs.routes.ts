import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { RunSpecSchema, parseOrThrow, type ServiceContext } from '@rfbatch/shared';
import { submitRun, cancelRun, retryRun } from '@rfbatch/run-control';
import { RetryOverridesSchema } from '@rfbatch/shared';
import { toRestartOverrides, runRow, runView } from '@rfbatch/run-control';

const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});
const RunParams = z.object({ id: z.string().min(1).max(100) });

/** The submit/status API: POST /runs, GET /runs, GET /runs/:id, POST /runs/:id/cancel|retry. */
export function runsRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  const { store, queues } = ctx;

  const requireRun = async (id: string) => {
    const state = await store.require(id);
    const spec = await store.spec(id).catch(() => undefined);
    return { state, spec };
  };

  app.post('/runs', async (request, reply) => {
    const spec = parseOrThrow(
      RunSpecSchema,
      request.body ?? {},
      'RunSpec',
      'see `runSpecJsonSchema()` for the contract',
    );
    const { runId, created } = await submitRun(queues, store, spec);
    return reply
      .code(created ? 201 : 200)
      .header('location', `/runs/${runId}`)
      .send({ runId, created });
  });

  app.get('/runs', async (request) => {
    const { limit, offset } = parseOrThrow(ListQuery, request.query, 'query');
    const ids = await store.list(limit, offset);
    const rows = await Promise.all(
      ids.map(async (id) => {
        const state = await store.get(id);
        if (!state) return undefined;
        return runRow(state, await store.spec(id).catch(() => undefined));
      }),
    );
    return { runs: rows.filter((r) => r !== undefined), limit, offset };
  });

  app.get('/runs/:id', async (request) => {
    const { id } = parseOrThrow(RunParams, request.params, 'path');
    const { state, spec } = await requireRun(id);
    return runView(state, spec);
  });

  app.post('/runs/:id/cancel', async (request, reply) => {
    const { id } = parseOrThrow(RunParams, request.params, 'path');
    await requireRun(id);
    const result = await cancelRun(ctx, id);
    const after = await store.require(id);
    return reply.code(result.cancelled ? 202 : 200).send({ runId: id, status: after.status, ...result });
  });

  app.post('/runs/:id/retry', async (request, reply) => {
    const { id } = parseOrThrow(RunParams, request.params, 'path');
    const overrides = parseOrThrow(RetryOverridesSchema, request.body ?? {}, 'retry overrides');
    await requireRun(id);
    const result = await retryRun(ctx, id, toRestartOverrides(overrides));
    const after = await store.require(id);
    return reply.code(202).send({ runId: id, status: after.status, ...result });
  });
}
