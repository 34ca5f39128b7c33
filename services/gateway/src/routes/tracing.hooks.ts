/**
 * A server span per API request while tracing is on (`POST /runs`, `GET /runs/:id`, the webhook
 * route, …; not /metrics, /healthz or the board): named after the route template, never a secret
 * path segment; a caller's W3C trace context (`traceparent`) is continued. The span is the active
 * context of the handler, so the run a `POST /runs` submits — its BullMQ jobs in every service —
 * is in the same trace.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { startServerSpan, tracingOn, type ServerSpan } from '@rfbatch/shared';

const UNTRACED = /^\/(metrics|healthz|board|admin\/board)($|[/?])/;

export function traceRequests(app: FastifyInstance): void {
  if (!tracingOn()) return;
  const spans = new WeakMap<FastifyRequest, ServerSpan>();
  app.addHook('onRequest', (request, _reply, done) => {
    // The template (`/webhooks/roboflow/:secret`), so a path secret never names a span.
    const route = request.routeOptions.url ?? 'unmatched';
    const span = UNTRACED.test(request.url)
      ? undefined
      : startServerSpan(`${request.method} ${route}`, request.headers, {
          'http.request.method': request.method,
          'http.route': route,
        });
    if (span) spans.set(request, span);
    done();
  });
  // After the body is read, the handler runs in the span's context (done calls it synchronously).
  app.addHook('preHandler', (request, _reply, done) => {
    const span = spans.get(request);
    if (span) span.run(done);
    else done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    spans.get(request)?.end(reply.statusCode);
    spans.delete(request);
    done();
  });
}
