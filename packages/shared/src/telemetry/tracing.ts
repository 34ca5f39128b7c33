/**
 * OpenTelemetry tracing of one process, off unless the standard variables ask for it
 * (`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`; `OTEL_SDK_DISABLED=true`
 * or `OTEL_TRACES_EXPORTER=none` turn it off). Spans go to an OTLP/HTTP collector in `http/protobuf`
 * (the OTel default) or `http/json` (`OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL`); the exporter reads the
 * endpoint, headers and timeout variables itself. BullMQ carries the trace from the job that adds
 * to the job that runs (bullmq.ts), so one trace follows a run through every service.
 */
import { trace, type Tracer } from '@opentelemetry/api';
import type { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { EnvSource } from '../config.js';
import { ConfigError } from '../errors.js';

/** The instrumentation scope of rfbatch's own spans (BullMQ's are `bullmq`). */
export const TRACER_NAME = 'rfbatch';

export type OtlpProtocol = 'http/protobuf' | 'http/json';

/** Whether `env` turns tracing on, and with which protocol; undefined when it is off. */
export function tracingSettings(env: EnvSource): { protocol: OtlpProtocol } | undefined {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint || env.OTEL_SDK_DISABLED === 'true' || env.OTEL_TRACES_EXPORTER === 'none') return undefined;
  const name = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL
    ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'
    : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocol = env[name] || 'http/protobuf';
  if (protocol !== 'http/protobuf' && protocol !== 'http/json') {
    throw new ConfigError([
      {
        path: name,
        message: `rfbatch exports traces over OTLP/HTTP: http/protobuf or http/json (got "${protocol}"); point it at the collector's HTTP port (4318)`,
      },
    ]);
  }
  return { protocol };
}

let provider: NodeTracerProvider | undefined;

/** True once startTracing has registered a provider in this process. */
export function tracingOn(): boolean {
  return provider !== undefined;
}

/** rfbatch's tracer (a no-op one while tracing is off). */
export function tracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

/**
 * Starts tracing for this process when `env` asks for it (once; later calls keep the first
 * provider). `serviceName` is the resource's `service.name` unless OTEL_SERVICE_NAME says otherwise.
 * Returns whether tracing is on.
 */
export async function startTracing(serviceName: string, env: EnvSource = process.env): Promise<boolean> {
  if (provider) return true;
  const settings = tracingSettings(env);
  if (!settings) return false;
  // Imported only when tracing is on: a process without it never loads the SDK.
  const [{ BatchSpanProcessor, NodeTracerProvider }, { resourceFromAttributes }, { OTLPTraceExporter }] =
    await Promise.all([
      import('@opentelemetry/sdk-trace-node'),
      import('@opentelemetry/resources'),
      settings.protocol === 'http/json'
        ? import('@opentelemetry/exporter-trace-otlp-http')
        : import('@opentelemetry/exporter-trace-otlp-proto'),
    ]);
  if (provider) return true;
  const exporter = new OTLPTraceExporter();
  provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME || serviceName }),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 1_000 })],
  });
  // The global provider, AsyncLocalStorage context and W3C trace-context propagation.
  provider.register();
  return true;
}

/** Sends the spans still buffered and stops tracing; bounded by `timeoutMs`. */
export async function stopTracing(timeoutMs = 5_000): Promise<void> {
  const current = provider;
  if (!current) return;
  provider = undefined;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    current.shutdown().catch(() => undefined),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs).unref())),
  ]);
  clearTimeout(timer);
  trace.disable();
}
