import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { RunSpecSchema, parseOrThrow, type ServiceContext } from '@rfbatch/shared';
import { submitRun, submitPolicy, cancelRun, retryRun } from '@rfbatch/run-control';
import { RetryOverridesSchema } from '@rfbatch/shared';
import { toRestartOverrides, runRow, runView } from '@rfbatch/run-control';
import { ListQuery, RunParams } from './runs.schema.js';

/** The submit/status API: POST /runs, GET /runs, GET /runs/:id(/report), POST /runs/:id/cancel|retry. */
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
      'the contract is the RunSpec JSON Schema: GET /schema on this gateway (OpenAPI: GET /openapi.json)',
    );
    const { runId, created } = await submitRun(queues, store, spec, submitPolicy(ctx.config));
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

  // The run's report.html (written by finalize), as it is on disk: it loads nothing, so the CSP forbids all.
  app.get('/runs/:id/report', async (request, reply) => {
    const { id } = parseOrThrow(RunParams, request.params, 'path');
    const { state, spec } = await requireRun(id);
    const path = spec ? join(spec.output.dir, 'report.html') : undefined;
    const size = path ? (await stat(path).catch(() => undefined))?.size : undefined;
    if (!path || size === undefined)
      return reply.code(404).send({
        error: {
          code: 'report.missing',
          message: `run ${id} has no report.html (it is ${state.status}; finalize writes the report)`,
        },
      });
    return reply
      .type('text/html; charset=utf-8')
      .header('content-length', size)
      .header('content-security-policy', "default-src 'none'; img-src data:; style-src 'unsafe-inline'")
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', 'no-store')
      .send(createReadStream(path));
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
