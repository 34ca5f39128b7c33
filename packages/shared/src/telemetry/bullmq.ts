/**
 * BullMQ's own tracing (its `telemetry` option, through bullmq-otel): a producer span where a job is
 * added, its trace context stored with the job, and a consumer span where a worker runs it — in
 * whichever process, so the trace of a run crosses the queues. Given to every Queue and Worker while
 * tracing is on (tracing.ts), and to none while it is off.
 */
import { BullMQOtel } from 'bullmq-otel';
import { tracingOn, TRACER_NAME } from './tracing.js';

let telemetry: BullMQOtel | undefined;

/** `{ telemetry }` for a Queue's or Worker's options while tracing is on; `{}` otherwise. */
export function bullmqTelemetry(): { telemetry?: BullMQOtel } {
  if (!tracingOn()) return {};
  telemetry ??= new BullMQOtel({ tracerName: TRACER_NAME });
  return { telemetry };
}
