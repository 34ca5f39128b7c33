import { createServer } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { ServiceContext } from '@rfbatch/shared';
import { bearerToken, tokenMatches } from './auth.js';
import { toHttpError } from './http-errors.js';
import { jsonBodyParser } from './json-body.js';
import { resolveGatewayOptions, type GatewayServiceOptions } from './options.js';
import { boardRoutes } from './routes/board.routes.js';
import { healthRoutes } from './routes/health.routes.js';
import { createRegistry, metricsRoutes } from './routes/metrics.routes.js';
import { runsRoutes } from './routes/runs.routes.js';
import { schemaRoutes } from './routes/schema.routes.js';
import { webhookRoutes } from './routes/webhooks.routes.js';
import { traceRequests } from './routes/tracing.hooks.js';

export interface GatewayOptions extends GatewayServiceOptions {
  /** Bearer token for everything but /healthz and the webhook route. @defaultValue config.gateway.token (none: open) */
  token?: string;
  /** Token of the writable board and of the API. @defaultValue config.gateway.adminToken */
  adminToken?: string;
  /** Path secret of the webhook route. @defaultValue config.gateway.webhookSecret (none: webhooks refused) */
  webhookSecret?: string;
  /** Workspace slug expected in `Bearer rf_<workspace>`. @defaultValue config, else discovered by the client */
  workspace?: string;
}

/** Paths with their own guard (or none: health and the public contracts): everything else needs the bearer token. */
const OWN_GUARD =
  /^\/(healthz($|\?)|schema($|\?)|openapi\.json($|\?)|webhooks\/|board($|\/|\?)|admin\/board($|\/|\?))/;

/** Builds the gateway app (not listening): routes, auth, board and metrics over `ctx`. For tests and startGateway. */
export async function buildGateway(
  ctx: ServiceContext,
  options: GatewayOptions = {},
): Promise<FastifyInstance> {
  const { config } = ctx;
  const resolved = resolveGatewayOptions(options);
  const token = options.token ?? config.gateway.token;
  const adminToken = options.adminToken ?? config.gateway.adminToken;
  // Typed as Fastify's logger so the app is a plain FastifyInstance (pino's own type is narrower).
  const loggerInstance: FastifyBaseLogger = ctx.logger.child({ component: 'gateway' });
  const app = Fastify({
    loggerInstance,
    // One debug line per request (onResponse below) instead of Fastify's two info lines.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: resolved.bodyLimitBytes,
    // A client that trickles its body (or never ends it) loses the socket after requestTimeoutMs,
    // checked at least every second (Node's default check runs every 30 s).
    serverFactory: (handler) =>
      createServer(
        {
          requestTimeout: resolved.requestTimeoutMs,
          headersTimeout: Math.min(resolved.requestTimeoutMs, 60_000),
          connectionsCheckingInterval: Math.min(1_000, resolved.requestTimeoutMs),
        },
        handler,
      ),
    // Run ids and paths never need more; long URLs are someone probing.
    routerOptions: { maxParamLength: 200 },
  });
  traceRequests(app);

  jsonBodyParser(app);
  app.addHook('onRequest', async (request, reply) => {
    if (OWN_GUARD.test(request.url)) return;
    if (!token && !adminToken) return;
    if (tokenMatches(bearerToken(request.headers.authorization), [token, adminToken])) return;
    return reply.code(401).send({
      error: { code: 'auth.required', message: 'send "Authorization: Bearer <RFBATCH_GATEWAY_TOKEN>"' },
    });
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.debug(
      { method: request.method, path: request.routeOptions.url, status: reply.statusCode },
      'request',
    );
  });
  app.setErrorHandler((error, request, reply) => {
    const { status, body } = toHttpError(error);
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: { code: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` },
    }),
  );

  let workspace: { at: number; value: Promise<string | undefined> } | undefined;
  const knownWorkspace = options.workspace ?? config.roboflow.workspace;
  const expectedWorkspace = () => {
    if (knownWorkspace) return Promise.resolve(knownWorkspace);
    // Discovered once; a failed discovery is retried after a minute, accepting any rf_ bearer meanwhile.
    if (!workspace || Date.now() - workspace.at > 60_000) {
      workspace = { at: Date.now(), value: ctx.client.workspace().catch(() => undefined) };
    }
    return workspace.value;
  };

  healthRoutes(app, ctx);
  runsRoutes(app, ctx);
  schemaRoutes(app, config.gateway.publicUrl);
  webhookRoutes(app, ctx, {
    secret: options.webhookSecret ?? config.gateway.webhookSecret,
    workspace: expectedWorkspace,
    bodyLimitBytes: resolved.webhookBodyLimitBytes,
    dedupeTtlSeconds: resolved.dedupeTtlSeconds,
  });
  metricsRoutes(app, createRegistry(ctx));
  if (resolved.board) await boardRoutes(app, ctx.queues, { token, adminToken });
  return app;
}
