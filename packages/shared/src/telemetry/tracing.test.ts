import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { inSpan } from './spans.js';
import { startTracing, tracingOn, tracingSettings } from './tracing.js';

describe('tracingSettings', () => {
  it('is off without an OTLP endpoint, or when the SDK or the traces exporter is turned off', () => {
    expect(tracingSettings({})).toBeUndefined();
    expect(
      tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' }),
    ).toBeUndefined();
    expect(
      tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_TRACES_EXPORTER: 'none' }),
    ).toBeUndefined();
  });

  it('takes http/protobuf by default, http/json when asked, the traces variable first', () => {
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).toEqual({
      protocol: 'http/protobuf',
    });
    expect(
      tracingSettings({
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      }),
    ).toEqual({ protocol: 'http/json' });
    expect(
      tracingSettings({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
      }),
    ).toEqual({ protocol: 'http/protobuf' });
  });

  it('refuses grpc with a one-line error naming the variable and the value', () => {
    const read = () =>
      tracingSettings({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4317',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      });
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL.*http\/protobuf or http\/json \(got "grpc"\)/);
  });

  it('starts nothing and only runs the function while it is off', async () => {
    expect(await startTracing('rfbatch-test', {})).toBe(false);
    expect(tracingOn()).toBe(false);
    expect(await inSpan('x', {}, async () => 42)).toBe(42);
  });
});
