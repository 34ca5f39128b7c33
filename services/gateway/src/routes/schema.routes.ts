import type { FastifyInstance } from 'fastify';
import { renderRunSpecJsonSchema } from '@rfbatch/shared';
import { openApiDocument } from '../openapi.js';

/**
 * GET /schema (the RunSpec JSON Schema, byte for byte packages/shared/run-spec.schema.json) and GET
 * /openapi.json (openapi.ts): contracts, no token needed, so any producer can fetch them.
 */
export function schemaRoutes(app: FastifyInstance, publicUrl: string | undefined): void {
  const schema = renderRunSpecJsonSchema();
  const openapi = JSON.stringify(openApiDocument(publicUrl));
  app.get('/schema', async (_request, reply) =>
    reply.type('application/schema+json; charset=utf-8').send(schema),
  );
  app.get('/openapi.json', async (_request, reply) =>
    reply.type('application/json; charset=utf-8').send(openapi),
  );
}
