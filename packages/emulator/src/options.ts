/** Options of `startEmulator` and their defaults. */
import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import type { Faults } from './faults.js';
import type { ResponseShape } from './response-shape.js';
import { MAX_IMAGE_BYTES } from './staging/tar-ingest.js';

export interface EmulatorOptions {
  /** Interface to listen on. @defaultValue '127.0.0.1' */
  host?: string;
  /** Port; 0 picks a free one. @defaultValue 0 */
  port?: number;
  /**
   * The origin signed URLs point at, when clients reach the emulator by another name than the bound
   * address (bound to 0.0.0.0 in a container, reached as `http://emulator:9000`). @defaultValue the bound address
   */
  publicUrl?: string;
  /** State and staged files; a fresh temp dir when absent (removed on close). */
  dataDir?: string;
  /** API keys accepted; with none, any non-empty key is accepted. */
  apiKeys?: string[];
  /** The workspace slug served by `GET /?api_key=`. @defaultValue 'local' */
  workspace?: string;
  /** Time between a shard's upload and its items showing in count/shards. @defaultValue 1000 */
  indexingDelayMs?: number;
  /** Simulated processing time per image (or per video frame batch). @defaultValue 5 */
  processingMsPerItem?: number;
  /** Page size when a list request has none. @defaultValue 100 */
  pageSize?: number;
  /** Largest page a client may ask for. @defaultValue 10_000 */
  maxPageSize?: number;
  /** Lifetime of signed upload/download URLs. @defaultValue 3600 */
  signedUrlTtlS?: number;
  /** Deliver webhooks at all. @defaultValue true */
  webhooks?: boolean;
  /** First delay between webhook redeliveries (doubles per attempt). @defaultValue 200 */
  webhookRetryBaseMs?: number;
  /** Webhook delivery attempts in all. @defaultValue 5 */
  webhookMaxAttempts?: number;
  /** Time a new job stays pending before its processing stage starts. @defaultValue 200 */
  jobStartDelayMs?: number;
  /** Faults active from the start (see faults.ts). */
  faults?: Partial<Faults>;
  /** Per-connection bandwidth cap on signed-URL PUT/GET, in bytes per second (none when absent). */
  throttleBytesPerSecond?: number;
  /** Fetch references from any host, not only loopback ones. @defaultValue false */
  allowRemoteReferences?: boolean;
  /** Items per shard for references ingests. @defaultValue 500 */
  referencesPerShard?: number;
  /** Largest single-upload image (larger ones get 413); a test lowers it to see one refused. @defaultValue 20 MiB */
  maxImageBytes?: number;
  /**
   * Which shapes the answers take: `seed` (rfbatch's reference) or `official` (what the official client's
   * models allow: no envelope, no top-level job status, other timestamp forms; response-shape.ts).
   * @defaultValue 'seed'
   */
  responseShape?: ResponseShape;
  logger?: Logger;
  /**
   * The time every timestamp, delay, expiry and timer of the emulator follows; a test passes a
   * `ManualClock` to move time instead of waiting for it. @defaultValue the system clock
   */
  clock?: Clock;
}

export type ResolvedOptions = Required<
  Omit<EmulatorOptions, 'dataDir' | 'faults' | 'throttleBytesPerSecond' | 'logger' | 'publicUrl' | 'clock'>
> & {
  dataDir: string;
  throttleBytesPerSecond: number | undefined;
  publicUrl: string | undefined;
};

/** An http(s) origin (a path would be lost: signed URLs carry absolute paths); without its trailing slash. */
export function publicOrigin(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(
      `publicUrl ${JSON.stringify(value)} is not a URL: give an origin such as http://emulator:9000`,
    );
  }
  if (
    !/^https?:$/.test(url.protocol) ||
    url.pathname !== '/' ||
    url.search ||
    url.hash ||
    url.username ||
    url.password
  ) {
    throw new Error(
      `publicUrl ${JSON.stringify(value)} must be an http(s) origin, without a path or query (e.g. http://emulator:9000)`,
    );
  }
  return url.origin;
}

export function resolveOptions(options: EmulatorOptions, dataDir: string): ResolvedOptions {
  return {
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    publicUrl: options.publicUrl === undefined ? undefined : publicOrigin(options.publicUrl),
    dataDir,
    apiKeys: options.apiKeys ?? [],
    workspace: options.workspace ?? 'local',
    indexingDelayMs: options.indexingDelayMs ?? 1000,
    processingMsPerItem: options.processingMsPerItem ?? 5,
    pageSize: options.pageSize ?? 100,
    maxPageSize: options.maxPageSize ?? 10_000,
    signedUrlTtlS: options.signedUrlTtlS ?? 3600,
    webhooks: options.webhooks ?? true,
    webhookRetryBaseMs: options.webhookRetryBaseMs ?? 200,
    webhookMaxAttempts: options.webhookMaxAttempts ?? 5,
    jobStartDelayMs: options.jobStartDelayMs ?? 200,
    throttleBytesPerSecond: options.throttleBytesPerSecond,
    allowRemoteReferences: options.allowRemoteReferences ?? false,
    referencesPerShard: options.referencesPerShard ?? 500,
    maxImageBytes: options.maxImageBytes ?? MAX_IMAGE_BYTES,
    responseShape: options.responseShape ?? 'seed',
  };
}
