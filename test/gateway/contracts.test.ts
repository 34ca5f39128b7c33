/**
 * Issue 17, enqueue from other systems: the gateway serves the RunSpec JSON Schema (GET /schema, the
 * file in packages/shared, with an $id) and an OpenAPI 3.1 document of every route it registers
 * (GET /openapi.json), both without a token; a bad submit's hint names the schema URL.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeServiceContext,
  createLogger,
  createServiceContext,
  loadConfig,
  RUN_SPEC_JSON_SCHEMA_PATH,
  RUN_SPEC_SCHEMA_ID,
  RunSpecSchema,
  type ServiceContext,
} from '@rfbatch/shared';
import { buildGateway } from '../../services/gateway/src/index.js';
import { cleanupPrefix, testPrefix, testRedisUrl } from '@rfbatch/testkit/redis';

const TOKEN = 'contracts-token-0123';
const prefix = testPrefix('contracts');
let root: string;
let ctx: ServiceContext;
let app: FastifyInstance;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'rfb-contracts-'));
  ctx = createServiceContext(
    loadConfig({
      REDIS_URL: testRedisUrl(),
      RFBATCH_PREFIX: prefix,
      ROBOFLOW_API_KEY: 'test-key',
      ROBOFLOW_API_URL: 'http://127.0.0.1:9',
      ROBOFLOW_WORKSPACE: 'ws',
      RFBATCH_GATEWAY_TOKEN: TOKEN,
      RFBATCH_ALLOWED_ROOTS: root,
      RFBATCH_PUBLIC_URL: 'https://rfbatch.example.com',
      RFBATCH_WEBHOOK_SECRET: 'contracts-webhook-secret-0123',
    }),
    createLogger({ level: 'silent' }),
  );
  app = await buildGateway(ctx, { board: false });
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  if (ctx) await closeServiceContext(ctx);
  await cleanupPrefix(prefix);
  await rm(root, { recursive: true, force: true });
});

type Doc = {
  openapi: string;
  info: { title: string; version: string };
  servers?: Array<{ url: string }>;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Record<string, unknown>>; securitySchemes: Record<string, unknown> };
};
type Operation = {
  operationId: string;
  parameters?: Array<{ name: string; in: string; required: boolean; schema: Record<string, unknown> }>;
  responses: Record<string, unknown>;
  security?: Array<Record<string, unknown>>;
};

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'];

/** `METHOD /path/{param}` of every route the app registered (from Fastify's route tree), HEAD left out. */
function registeredRoutes(instance: FastifyInstance): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of instance.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│ ]*)[├└]── (\S+)(?: \(([^)]+)\))?/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    const path = stack.join('').replace(/:(\w+)/g, '{$1}');
    for (const method of (m[3] ?? '').split(', ').filter((x) => x && x !== 'HEAD'))
      out.push(`${method} ${path}`);
  }
  return out.sort();
}

/** Every `$ref` in the document. */
function refs(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) refs(n, found);
  else if (node && typeof node === 'object')
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') found.push(v);
      else refs(v, found);
    }
  return found;
}

describe('GET /schema', () => {
  it('is packages/shared/run-spec.schema.json byte for byte, with an $id, and needs no token', async () => {
    const res = await app.inject({ method: 'GET', url: '/schema' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/schema\+json/);
    expect(res.body).toBe(readFileSync(RUN_SPEC_JSON_SCHEMA_PATH, 'utf8'));
    const schema = res.json() as { $id: string; $schema: string; properties: Record<string, unknown> };
    expect(schema.$id).toBe(RUN_SPEC_SCHEMA_ID);
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(Object.keys(schema.properties).sort()).toEqual(Object.keys(RunSpecSchema.shape).sort());
  });

  it('a bad submit answers 400 with a hint naming GET /schema (not a TypeScript function)', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/runs',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ source: { kind: 'directory' } }),
    });
    expect(res.statusCode).toBe(400);
    const { error } = res.json() as { error: { hint: string; problems: unknown[] } };
    expect(error.hint).toMatch(/GET \/schema/);
    expect(error.hint).not.toMatch(/\(\)/);
    expect(error.problems.length).toBeGreaterThan(0);
  });
});

describe('GET /openapi.json', () => {
  let doc: Doc;
  beforeAll(async () => {
    const res = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    doc = res.json() as Doc;
  });

  it('is an OpenAPI 3.1 document: info, server, unique operation ids, a 2xx per operation, refs that resolve', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBeTruthy();
    expect(doc.info.version).toBeTruthy();
    expect(doc.servers).toEqual([{ url: 'https://rfbatch.example.com' }]);
    const ids: string[] = [];
    for (const [path, item] of Object.entries(doc.paths)) {
      expect(path.startsWith('/')).toBe(true);
      for (const [method, op] of Object.entries(item)) {
        expect(METHODS).toContain(method);
        ids.push(op.operationId);
        expect(
          Object.keys(op.responses).some((s) => /^2\d\d$/.test(s)),
          `${method} ${path}`,
        ).toBe(true);
        // Every {param} of the path is declared, in: path, required.
        const declared = (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
        const templated = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
        expect(declared.sort(), `${method} ${path}`).toEqual(templated.sort());
        for (const p of op.parameters ?? []) if (p.in === 'path') expect(p.required).toBe(true);
        for (const s of op.security ?? [])
          for (const name of Object.keys(s)) expect(doc.components.securitySchemes).toHaveProperty(name);
      }
    }
    expect(new Set(ids).size).toBe(ids.length);
    for (const ref of refs(doc)) {
      const m = /^#\/components\/schemas\/(\w+)$/.exec(ref);
      expect(m, ref).not.toBeNull();
      expect(doc.components.schemas, ref).toHaveProperty(m![1]!);
    }
    expect(JSON.stringify(doc)).not.toContain('"$schema"');
  });

  it('documents every route the gateway registers, and no route it does not', () => {
    const documented = Object.entries(doc.paths)
      .flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    const registered = registeredRoutes(app);
    expect(registered).toContain('POST /runs');
    expect(registered).toContain('POST /runs/{id}/retry');
    expect(documented).toEqual(registered);
  });

  it('takes its shapes from the zod schemas: the RunSpec is the /schema document, the list query has its bounds', async () => {
    const schema = (await app.inject({ method: 'GET', url: '/schema' })).json() as Record<string, unknown>;
    const { $schema: _drop, ...rest } = schema;
    expect(doc.components.schemas.RunSpec).toEqual(rest);
    const list = doc.paths['/runs']!.get!.parameters!;
    expect(list.find((p) => p.name === 'limit')).toMatchObject({
      in: 'query',
      required: false,
      schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
    });
    const run = doc.paths['/runs/{id}']!.get!.parameters![0]!;
    expect(run.schema).toMatchObject({ type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_-]*$' });
    const view = doc.components.schemas.RunView as {
      required: string[];
      properties: Record<string, unknown>;
    };
    expect(view.required).toEqual(expect.arrayContaining(['runId', 'status', 'counters', 'warnings']));
    const error = doc.components.schemas.Error as { properties: { error: { required: string[] } } };
    expect(error.properties.error.required.sort()).toEqual(['code', 'message']);
  });
});
