/**
 * Tracing of one CLI invocation when the standard OTel variables ask for it: a root span
 * `rfbatch <command>` (e.g. `rfbatch submit`), so the run it submits — its jobs in every worker
 * process — is one trace that starts here. `workers` and `gateway` trace as the services they run
 * (runServices); the SDK is imported only when tracing is on.
 */
import type { CliIO } from './io.js';

/** Commands whose process traces itself as a service. */
const SERVICE_COMMANDS = new Set(['workers', 'gateway', 'emulator']);

export async function traced<T>(io: CliIO, argv: readonly string[], fn: () => Promise<T>): Promise<T> {
  if (!io.env.OTEL_EXPORTER_OTLP_ENDPOINT && !io.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return fn();
  const command = argv.find((a) => !a.startsWith('-'));
  if (!command || SERVICE_COMMANDS.has(command)) return fn();
  const { inSpan, startTracing, stopTracing } = await import('@rfbatch/shared');
  if (!(await startTracing('rfbatch-cli', io.env))) return fn();
  try {
    return await inSpan(`rfbatch ${command}`, { attributes: { 'rfbatch.command': command } }, fn);
  } finally {
    await stopTracing();
  }
}
