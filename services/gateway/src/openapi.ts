/**
 * The gateway's OpenAPI 3.1 document (`GET /openapi.json`), generated from the same zod schemas the
 * routes parse with (z.toJSONSchema), so it cannot drift from what the gateway accepts. The RunSpec
 * is the document `GET /schema` serves. The board (a UI) is left out.
 */
import { z } from 'zod';
import { RetryOverridesSchema, renderRunSpecJsonSchema } from '@rfbatch/shared';
import { HttpErrorBody } from './http-errors.js';
import {
  CancelAnswer,
  ListQuery,
  RetryAnswer,
  RunListAnswer,
  RunParams,
  RunViewAnswer,
  SubmitAnswer,
} from './routes/runs.schema.js';

type Json = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, {
    io,
    target: 'draft-2020-12',
    unrepresentable: 'any',
  }) as Json;
  return rest;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Json) => ({ 'application/json': { schema } });
const answer = (description: string, schema?: Json) => ({
  description,
  ...(schema ? { content: json(schema) } : {}),
});
const errors = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [String(s), answer(ERROR_TEXT[s] ?? 'error', ref('Error'))]));

const ERROR_TEXT: Record<number, string> = {
  400: 'invalid request: `error.problems` lists each bad field',
  401: 'missing or wrong bearer token',
  404: 'no such run',
  409: 'a run with this id and a different spec exists',
  413: 'body too large',
};

/** Path and query parameters from a zod object: one OpenAPI parameter per field. */
function parameters(schema: z.ZodObject, where: 'path' | 'query'): Json[] {
  const shape = jsonSchema(schema, 'input') as { properties: Record<string, Json>; required?: string[] };
  return Object.entries(shape.properties).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || (shape.required ?? []).includes(name),
    schema: s,
  }));
}

const runId = parameters(RunParams, 'path');
const bearer = [{ bearer: [] }];

/** The document; `serverUrl` (RFBATCH_PUBLIC_URL) is named as the server when known. */
export function openApiDocument(serverUrl?: string): Json {
  const { $schema: _drop, ...runSpec } = JSON.parse(renderRunSpecJsonSchema()) as Json;
  return {
    openapi: '3.1.0',
    info: {
      title: 'rfbatch gateway',
      version: '1',
      description:
        'Submit and follow rfbatch runs over HTTP. Every route but /healthz, /schema, /openapi.json and the webhook needs `Authorization: Bearer <RFBATCH_GATEWAY_TOKEN>` when a token is set. The RunSpec is also served alone at GET /schema.',
    },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        RunSpec: runSpec,
        RetryOverrides: jsonSchema(RetryOverridesSchema, 'input'),
        SubmitAnswer: jsonSchema(SubmitAnswer, 'output'),
        RunList: jsonSchema(RunListAnswer, 'output'),
        RunView: jsonSchema(RunViewAnswer, 'output'),
        CancelAnswer: jsonSchema(CancelAnswer, 'output'),
        RetryAnswer: jsonSchema(RetryAnswer, 'output'),
        Error: jsonSchema(HttpErrorBody, 'output'),
      },
    },
    paths: {
      '/runs': {
        post: {
          operationId: 'submitRun',
          summary: 'Submit a run (idempotent by runId: the same spec again answers 200)',
          security: bearer,
          requestBody: { required: true, content: json(ref('RunSpec')) },
          responses: {
            '201': answer('run created; `location` names it', ref('SubmitAnswer')),
            '200': answer('the same spec was submitted before', ref('SubmitAnswer')),
            ...errors(400, 401, 409, 413),
          },
        },
        get: {
          operationId: 'listRuns',
          summary: 'Runs, newest first',
          security: bearer,
          parameters: parameters(ListQuery, 'query'),
          responses: { '200': answer('a page of runs', ref('RunList')), ...errors(400, 401) },
        },
      },
      '/runs/{id}': {
        get: {
          operationId: 'getRun',
          summary: 'The run: status, counters, timings, warnings, error, expiry',
          security: bearer,
          parameters: runId,
          responses: { '200': answer('the run', ref('RunView')), ...errors(400, 401, 404) },
        },
      },
      '/runs/{id}/report': {
        get: {
          operationId: 'getRunReport',
          summary: "The run's report.html (written when the run completes)",
          security: bearer,
          parameters: runId,
          responses: {
            '200': { description: 'the report', content: { 'text/html': { schema: { type: 'string' } } } },
            ...errors(400, 401, 404),
          },
        },
      },
      '/runs/{id}/cancel': {
        post: {
          operationId: 'cancelRun',
          summary: 'Cancel the run (its pending jobs removed, its remote job aborted)',
          security: bearer,
          parameters: runId,
          responses: {
            '202': answer('cancelled', ref('CancelAnswer')),
            '200': answer('the run had already ended', ref('CancelAnswer')),
            ...errors(400, 401, 404),
          },
        },
      },
      '/runs/{id}/retry': {
        post: {
          operationId: 'retryRun',
          summary: 'Retry a failed run from where it stopped, optionally with new compute settings',
          security: bearer,
          parameters: runId,
          requestBody: { required: false, content: json(ref('RetryOverrides')) },
          responses: { '202': answer('retrying', ref('RetryAnswer')), ...errors(400, 401, 404) },
        },
      },
      '/schema': {
        get: {
          operationId: 'getRunSpecSchema',
          summary: 'The RunSpec JSON Schema (draft 2020-12, with its $id), for producers in any language',
          responses: {
            '200': {
              description: 'the schema',
              content: { 'application/schema+json': { schema: { type: 'object' } } },
            },
          },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'getOpenApi',
          summary: 'This document',
          responses: { '200': answer('OpenAPI 3.1', { type: 'object' }) },
        },
      },
      '/healthz': {
        get: {
          operationId: 'health',
          summary: 'Redis reachable, live workers per queue',
          responses: {
            '200': answer('healthy', { type: 'object' }),
            '503': answer('Redis does not answer', { type: 'object' }),
          },
        },
      },
      '/metrics': {
        get: {
          operationId: 'metrics',
          summary: 'Prometheus metrics (rfbatch and BullMQ series)',
          security: bearer,
          responses: {
            '200': {
              description: 'text exposition',
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
            ...errors(401),
          },
        },
      },
      '/webhooks/roboflow/{secret}': {
        post: {
          operationId: 'roboflowWebhook',
          summary: "Roboflow's job notification (the path secret is RFBATCH_WEBHOOK_SECRET)",
          parameters: [{ name: 'secret', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: { required: true, content: json({ type: 'object' }) },
          responses: { '200': answer('taken or ignored', { type: 'object' }), ...errors(400, 401, 404, 413) },
        },
      },
    },
  };
}
