/** The `rfbatch-emulator` command: flags → startEmulator; first stdout line announces the URL. */
import { parseArgs } from 'node:util';
import { createLogger } from '@rfbatch/shared';
import { FaultsPatch, type FaultsPatch as FaultsPatchT } from './faults.js';
import { startEmulator } from './server.js';
import { RESPONSE_SHAPES, type ResponseShape } from './response-shape.js';

const USAGE = `rfbatch-emulator — a local Roboflow Batch Processing API

  --host <h>                    interface (default 127.0.0.1)
  --port <n>                    port, 0 = a free one (default 0)
  --public-url <origin>         origin of the signed URLs, when clients use another name
                                (e.g. http://emulator:9000; default: the bound address)
  --data-dir <dir>              state + staged files (default: a temp dir, removed on exit)
  --api-key <key>               accepted key (repeatable; none = any non-empty key)
  --workspace <slug>            workspace slug (default local)
  --indexing-delay-ms <n>       shard indexing delay (default 1000)
  --processing-ms-per-item <n>  simulated processing time per image (default 5)
  --page-size <n>               default page size of lists (default 100)
  --signed-url-ttl-s <n>        signed URL lifetime (default 3600)
  --throttle-bytes-per-second <n>  per-connection cap on signed-URL PUT/GET
  --no-webhooks                 never deliver webhooks
  --allow-remote-references     fetch references from any host (default: loopback only)
  --response-shape <seed|official>  answer shapes: seed (default) or official (no envelope,
                                no top-level job status, other ISO-8601 timestamp forms, …)
  --log-level <level>           stderr log level (default info)
Faults (also settable at run time: POST /__emulator/faults):
  --faults <json>               a JSON object of faults (see README)
  --fault-seed <n>  --fault-path-prefix <p>  --fault-first-n <n>
  --fault-429-rate <0..1>  --fault-retry-after-s <n>  --fault-5xx-rate <0..1>
  --fault-latency-ms <n>  --fault-reset-rate <0..1>  --fault-signed-url-ttl-s <n>
  --fault-slow-indexing-ms <n>  --fault-shard-error-rate <0..1>
  --fault-job-failure <oom|timeout|image-failures|workflow-error>
  --fault-drop-webhooks  --fault-payment-required
  --fault-malicious-export <traversal|absolute|symlink|bomb>
`;

const str = { type: 'string' } as const;
const bool = { type: 'boolean' } as const;

function num(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`--${name} needs a number, got ${JSON.stringify(value)}`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      help: bool,
      host: str,
      port: str,
      'public-url': str,
      'data-dir': str,
      'api-key': { type: 'string', multiple: true },
      workspace: str,
      'indexing-delay-ms': str,
      'processing-ms-per-item': str,
      'page-size': str,
      'signed-url-ttl-s': str,
      'throttle-bytes-per-second': str,
      'no-webhooks': bool,
      'allow-remote-references': bool,
      'response-shape': str,
      'log-level': str,
      faults: str,
      'fault-seed': str,
      'fault-path-prefix': str,
      'fault-first-n': str,
      'fault-429-rate': str,
      'fault-retry-after-s': str,
      'fault-5xx-rate': str,
      'fault-latency-ms': str,
      'fault-reset-rate': str,
      'fault-signed-url-ttl-s': str,
      'fault-slow-indexing-ms': str,
      'fault-shard-error-rate': str,
      'fault-job-failure': str,
      'fault-drop-webhooks': bool,
      'fault-payment-required': bool,
      'fault-malicious-export': str,
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const fromFlags: Record<string, unknown> = {
    seed: num('fault-seed', values['fault-seed']),
    pathPrefix: values['fault-path-prefix'],
    firstN: num('fault-first-n', values['fault-first-n']),
    rateLimitRate: num('fault-429-rate', values['fault-429-rate']),
    retryAfterS: num('fault-retry-after-s', values['fault-retry-after-s']),
    serverErrorRate: num('fault-5xx-rate', values['fault-5xx-rate']),
    latencyMs: num('fault-latency-ms', values['fault-latency-ms']),
    resetRate: num('fault-reset-rate', values['fault-reset-rate']),
    signedUrlTtlS: num('fault-signed-url-ttl-s', values['fault-signed-url-ttl-s']),
    slowIndexingMs: num('fault-slow-indexing-ms', values['fault-slow-indexing-ms']),
    shardErrorRate: num('fault-shard-error-rate', values['fault-shard-error-rate']),
    jobFailure: values['fault-job-failure'],
    dropWebhooks: values['fault-drop-webhooks'],
    paymentRequired: values['fault-payment-required'],
    maliciousExport: values['fault-malicious-export'],
  };
  const json = values.faults ? (JSON.parse(values.faults) as Record<string, unknown>) : {};
  const parsed = FaultsPatch.safeParse({
    ...json,
    ...Object.fromEntries(Object.entries(fromFlags).filter(([, v]) => v !== undefined)),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `invalid fault flags: ${issue?.path.map(String).join('.') ?? ''}: ${issue?.message ?? ''}`,
    );
  }
  const faults: FaultsPatchT = parsed.data;

  // Logs go to stderr: stdout's first line is the contract with whoever started us.
  const logger = createLogger({
    level: values['log-level'] ?? 'info',
    name: 'emulator',
    destination: process.stderr,
  });
  const throttleBps = num('throttle-bytes-per-second', values['throttle-bytes-per-second']);
  const emulator = await startEmulator({
    ...(values.host ? { host: values.host } : {}),
    port: num('port', values.port) ?? 0,
    ...(values['public-url'] ? { publicUrl: values['public-url'] } : {}),
    ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}),
    apiKeys: values['api-key'] ?? [],
    ...(values.workspace ? { workspace: values.workspace } : {}),
    ...defined('indexingDelayMs', num('indexing-delay-ms', values['indexing-delay-ms'])),
    ...defined('processingMsPerItem', num('processing-ms-per-item', values['processing-ms-per-item'])),
    ...defined('pageSize', num('page-size', values['page-size'])),
    ...defined('signedUrlTtlS', num('signed-url-ttl-s', values['signed-url-ttl-s'])),
    ...defined('throttleBytesPerSecond', throttleBps),
    webhooks: !values['no-webhooks'],
    allowRemoteReferences: values['allow-remote-references'] === true,
    responseShape: responseShape(values['response-shape']),
    faults,
    logger,
  });
  process.stdout.write(`emulator listening on ${emulator.url}\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'emulator shutting down');
    emulator.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'emulator did not close cleanly');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

function responseShape(value: string | undefined): ResponseShape {
  if (value === undefined) return 'seed';
  const shape = RESPONSE_SHAPES.find((s) => s === value);
  if (!shape) throw new Error(`--response-shape must be seed or official, got ${JSON.stringify(value)}`);
  return shape;
}

function defined<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, number>);
}

main().catch((err: unknown) => {
  process.stderr.write(`rfbatch-emulator: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
});
