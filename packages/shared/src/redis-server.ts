import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisHandle {
  url: string;
  /** How it was found: an env URL, the local default, a private server we spawned, or a container. */
  origin: 'env' | 'local' | 'spawned' | 'container';
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** True when something answers PING with PONG at host:port within timeoutMs. */
export async function redisAnswers(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, host, () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

export function hasRedisServerBinary(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

export interface SpawnRedisOptions {
  port?: number;
  /** Keep an append-only file (for restart tests). Data lives in `dir`. */
  appendOnly?: boolean;
  dir?: string;
}

/** Starts a private redis-server on a free port in a temp dir, without persistence unless asked. */
export async function spawnRedis(
  options: SpawnRedisOptions = {},
): Promise<RedisHandle & { process: ChildProcess; port: number; dir: string }> {
  const port = options.port ?? (await freePort());
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'rfbatch-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''];
  args.push('--appendonly', options.appendOnly ? 'yes' : 'no', '--maxmemory-policy', 'noeviction');
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let i = 0; i < 100; i++) {
    if (await redisAnswers('127.0.0.1', port)) break;
    if (child.exitCode !== null)
      throw new Error(`redis-server exited with code ${child.exitCode} on port ${port}`);
    await new Promise((r) => setTimeout(r, 50));
    if (i === 99) throw new Error(`redis-server did not answer on port ${port} within 5 s`);
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    origin: 'spawned',
    process: child,
    port,
    dir,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const HOW_TO_GET_REDIS =
  'install Redis (Debian/Ubuntu: `apt-get install -y redis-server`; macOS: `brew install redis`) ' +
  'or set REDIS_URL to a reachable server';

/**
 * Finds a Redis for the demo and `rfbatch run --local`: REDIS_URL; else 127.0.0.1:6379 when it answers;
 * else a private redis-server; else an error that says how to get one.
 */
export async function redisForDemo(env = process.env): Promise<RedisHandle> {
  if (env.REDIS_URL) return { url: env.REDIS_URL, origin: 'env', stop: async () => {} };
  if (await redisAnswers('127.0.0.1', 6379))
    return { url: 'redis://127.0.0.1:6379', origin: 'local', stop: async () => {} };
  if (hasRedisServerBinary()) return spawnRedis();
  throw new Error(
    `no Redis found: REDIS_URL is not set, nothing answers on 127.0.0.1:6379, and redis-server is not on PATH; ${HOW_TO_GET_REDIS}`,
  );
}
