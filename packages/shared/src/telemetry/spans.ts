/**
 * rfbatch's own spans: one per Roboflow API call (its endpoint template as the name, retries
 * inside), one per signed-URL transfer, and the entry spans of a run (`POST /runs`, `rfbatch
 * submit`). Nothing secret goes into a span: URLs without their query string (the API key and a
 * signed URL's signature live there), error messages through the redactor.
 */
import { context, propagation, SpanKind, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';
import { redactText } from '../redact.js';
import { tracer, tracingOn } from './tracing.js';

export { SpanKind } from '@opentelemetry/api';

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
}

/** Adds attributes to the span `inSpan` runs its function in (nothing while tracing is off). */
export function setSpanAttributes(attributes: Attributes): void {
  trace.getActiveSpan()?.setAttributes(attributes);
}

/**
 * Runs `fn` in a new active span named `name` (a child of the active one); a thrown error marks the
 * span failed with its redacted message. While tracing is off it only runs `fn`.
 */
export async function inSpan<T>(name: string, options: SpanOptions, fn: () => Promise<T>): Promise<T> {
  if (!tracingOn()) return fn();
  return tracer().startActiveSpan(
    name,
    {
      kind: options.kind ?? SpanKind.INTERNAL,
      ...(options.attributes ? { attributes: options.attributes } : {}),
    },
    async (span) => {
      try {
        return await fn();
      } catch (error) {
        const message = redactText(error instanceof Error ? error.message : String(error));
        span.recordException({ name: error instanceof Error ? error.name : 'Error', message });
        span.setStatus({ code: SpanStatusCode.ERROR, message });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/**
 * Runs `fn` in the trace a caller sent (W3C `traceparent`/`tracestate` headers), so an upstream
 * system's trace continues into ours; a new trace when there is none.
 */
export function withCallerTrace<T>(headers: Record<string, string | string[] | undefined>, fn: () => T): T {
  if (!tracingOn()) return fn();
  return context.with(propagation.extract(context.active(), headers), fn);
}

/** The trace id of the active span, for a log line or an answer (undefined while tracing is off). */
export function activeTraceId(): string | undefined {
  const id = trace.getActiveSpan()?.spanContext().traceId;
  return id && !/^0+$/.test(id) ? id : undefined;
}

/** A server span started by a request hook and ended by another (the gateway's tracing hooks). */
export interface ServerSpan {
  /** Runs `fn` with the span as the active context. */
  run<T>(fn: () => T): T;
  /** Ends the span with the response's status (5xx marks it failed). */
  end(status: number): void;
}

/** A server span continuing the caller's trace (`traceparent`), or undefined while tracing is off. */
export function startServerSpan(
  name: string,
  headers: Record<string, string | string[] | undefined>,
  attributes: Attributes = {},
): ServerSpan | undefined {
  if (!tracingOn()) return undefined;
  const parent = propagation.extract(context.active(), headers);
  const span = tracer().startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
  const active = trace.setSpan(parent, span);
  return {
    run: (fn) => context.with(active, fn),
    end(status) {
      span.setAttribute('http.response.status_code', status);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    },
  };
}
