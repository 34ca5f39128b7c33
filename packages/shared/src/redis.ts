import { readFileSync } from 'node:fs';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { redactUrl } from './redact.js';

/** Where Redis is and how it runs (config.redis): one server, a Cluster, or a master behind Sentinel. */
export interface RedisTarget {
  url: string;
  mode?: 'standalone' | 'cluster' | 'sentinel';
  /** The master name the Sentinels watch. @defaultValue mymaster */
  sentinelName?: string;
  /** PEM of the CA that signed the server certificate (`rediss://`). */
  tlsCaFile?: string;
}

/** What a URL says: host, port, ACL user and password, TLS (`rediss://`, with the CA when given). */
function urlOptions(target: RedisTarget): { host: string; port: number; options: RedisOptions } {
  const url = new URL(target.url);
  const tls = url.protocol === 'rediss:';
  const options: RedisOptions = {
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.pathname.length > 1 ? { db: Number(url.pathname.slice(1)) } : {}),
    ...(tls ? { tls: target.tlsCaFile ? { ca: readFileSync(target.tlsCaFile) } : {} } : {}),
  };
  return { host: url.hostname, port: Number(url.port || 6379), options };
}

/**
 * One connection to the target. A Cluster client is typed as a Redis: it takes the same commands, and
 * with a hash-tagged prefix every key of ours is in one slot (pipelines, MULTI and scripts work).
 */
function connect(target: string | RedisTarget, options: RedisOptions): Redis {
  const t = typeof target === 'string' ? { url: target } : target;
  const { host, port, options: fromUrl } = urlOptions(t);
  if (t.mode === 'cluster') {
    const cluster = new Cluster([{ host, port }], {
      redisOptions: { ...fromUrl, ...options },
      enableOfflineQueue: options.enableOfflineQueue ?? true,
      enableReadyCheck: true,
      ...(fromUrl.tls ? { dnsLookup: (address, done) => done(null, address) } : {}),
    });
    return cluster as unknown as Redis;
  }
  if (t.mode === 'sentinel') {
    const { username, password, tls, db } = fromUrl;
    return new Redis({
      sentinels: [{ host, port }],
      name: t.sentinelName ?? 'mymaster',
      ...(username ? { username, sentinelUsername: username } : {}),
      ...(password ? { password, sentinelPassword: password } : {}),
      ...(tls ? { tls, sentinelTLS: tls, enableTLSForSentinelMode: true } : {}),
      ...(db !== undefined ? { db } : {}),
      ...options,
    });
  }
  return new Redis({ host, port, ...fromUrl, ...options });
}

/** True for a client made in cluster mode. */
export function isClusterClient(redis: Redis): boolean {
  return (redis as unknown as { isCluster?: boolean }).isCluster === true;
}

/**
 * Connection for BullMQ workers: commands wait while Redis is away (maxRetriesPerRequest: null), so
 * a Redis restart pauses workers instead of failing their jobs.
 */
export function workerConnection(target: string | RedisTarget, options: RedisOptions = {}): Redis {
  return connect(target, { maxRetriesPerRequest: null, enableReadyCheck: true, ...options });
}

/**
 * Connection for producers and request paths (CLI, gateway): fail fast with a clear error instead of
 * queueing commands while Redis is unreachable.
 */
export function producerConnection(target: string | RedisTarget, options: RedisOptions = {}): Redis {
  return connect(target, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 5_000,
    ...options,
  });
}

/** Resolves once the connection is ready, or rejects with a message naming the (redacted) URL. */
export async function waitForRedis(redis: Redis, url: string, timeoutMs = 5_000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis at ${redactUrl(url)} did not answer within ${timeoutMs} ms: is it running?`));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      redis.off('ready', onReady);
    };
    redis.on('ready', onReady);
  });
}

/** Deletes every key under `prefix` (`<prefix>:*`), a SCAN page at a time (on every master of a Cluster): for tests and the demo's own prefix. */
export async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  const nodes = isClusterClient(redis) ? (redis as unknown as Cluster).nodes('master') : [redis];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      // One DEL per key: on a Cluster, keys of different slots cannot share a command.
      if (keys.length) await Promise.all(keys.map((k) => redis.del(k)));
    } while (cursor !== '0');
  }
}
