/**
 * Issue 14, points 6, 8, 9, 10: what a client with a valid token can make the gateway do, and where a
 * run's notify POST may go. Real Redis (a private prefix, and a private server for the eviction
 * check), a real listening gateway for the slow-body case, real loopback listeners as notify targets.
 * Only loopback is ever a target: a refusal is proven by no connection reaching a loopback listener.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import {
  connect,
  createServer as createTcpServer,
  type AddressInfo,
  type Server as TcpServer,
  type Socket,
} from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkRootsReally,
  closeServiceContext,
  createLogger,
  createServiceContext,
  loadConfig,
  parseNotifyAllow,
  spawnRedis,
  startServices,
  prepareServices,
  type ServiceContext,
} from '@rfbatch/shared';
// The gateway is no dependency of the test workspace: its sources, by path (test/ may import anything).
import { buildGateway, startGateway } from '../../services/gateway/src/index.js';
import { postSummary } from '@rfbatch/export';
import { jobsService } from '@rfbatch/jobs';
import { cleanupPrefix, testPrefix, testRedisUrl } from '@rfbatch/testkit/redis';

const TOKEN = 'hardening-token-0123';
const SECRET = 'webhook-secret-0123456789abcdef';
const PATH_SECRET = `T0-${randomBytes(6).toString('hex')}`;
const QUERY_SECRET = `code-${randomBytes(6).toString('hex')}`;
const prefix = testPrefix('hard');
let root: string;
let ctx: ServiceContext;
let app: FastifyInstance;
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

const spec = (runId: string, extra: Record<string, unknown> = {}) => ({
  runId,
  source: { kind: 'directory', path: join(root, 'in') },
  workflow: { workflowId: 'wf' },
  output: { dir: join(root, 'out', runId) },
  ...extra,
});

function config(env: Record<string, string> = {}) {
  return loadConfig({
    REDIS_URL: testRedisUrl(),
    RFBATCH_PREFIX: prefix,
    ROBOFLOW_API_KEY: 'test-key',
    ROBOFLOW_API_URL: 'http://127.0.0.1:9',
    ROBOFLOW_WORKSPACE: 'ws',
    RFBATCH_GATEWAY_TOKEN: TOKEN,
    RFBATCH_WEBHOOK_SECRET: SECRET,
    RFBATCH_ALLOWED_ROOTS: root,
    ...env,
  });
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'rfb-hard-'));
  await mkdir(join(root, 'in'), { recursive: true });
  ctx = createServiceContext(
    config({ RFBATCH_NOTIFY_ALLOW: '127.0.0.2:8443' }),
    createLogger({ level: 'silent' }),
  );
  app = await buildGateway(ctx);
});

afterAll(async () => {
  await app?.close();
  if (ctx) await closeServiceContext(ctx);
  await cleanupPrefix(prefix);
  await rm(root, { recursive: true, force: true });
});

const post = (payload: unknown) =>
  app.inject({ method: 'POST', url: '/runs', headers: auth, payload: JSON.stringify(payload) });

/** A 100,000-deep array, as text (JSON.stringify of it would overflow the stack too). */
const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;

describe('gateway: bad requests answer 4xx, never 500', () => {
  const cases: Array<{
    name: string;
    send: () => Promise<{ statusCode: number; body: string }>;
    status: number | number[];
    says?: RegExp;
  }> = [
    ...['done', 'warnings', 'notify'].map((part) => ({
      // `<prefix>:run:<id>:<part>` is a set, a list or a string: read as a run hash it was a 500.
      name: `GET /runs/<id>:${part} of a run that has one`,
      send: async () => {
        await post(spec('r-colon', { notify: 'https://hooks.example.com/x' }));
        await ctx.store.markDone('r-colon', 'shard:0');
        await ctx.store.warn('r-colon', 'a warning');
        return app.inject({ method: 'GET', url: `/runs/r-colon:${part}`, headers: auth });
      },
      status: [400, 404],
    })),
    {
      name: 'GET /runs/<id>%00',
      send: () => app.inject({ method: 'GET', url: '/runs/r1%00', headers: auth }),
      status: [400, 404],
    },
    {
      name: 'a 100,000-deep array in parameters',
      send: () =>
        app.inject({
          method: 'POST',
          url: '/runs',
          headers: auth,
          payload: JSON.stringify(spec('r-deep')).replace(
            '"workflowId":"wf"',
            `"workflowId":"wf","parameters":{"a":${deep}}`,
          ),
        }),
      status: 400,
      says: /nested more than 64 levels/,
    },
    {
      name: 'a webhook with text/plain',
      send: () =>
        app.inject({
          method: 'POST',
          url: `/webhooks/roboflow/${SECRET}`,
          headers: { authorization: 'Bearer rf_ws', 'content-type': 'text/plain' },
          payload: 'hello',
        }),
      status: 415,
      says: /application\/json/,
    },
    {
      name: 'a notify URL with user:password',
      send: () => post(spec('r-userinfo', { notify: 'https://svc:hunter2pass@hooks.example.com/x' })),
      status: 400,
      says: /notify.*user name or password/,
    },
    {
      name: 'a source outside the allowed roots',
      send: () => post(spec('r-usrlib', { source: { kind: 'directory', path: '/usr/lib' } })),
      status: 400,
      says: /source\.path "\/usr\/lib" is outside the allowed source roots/,
    },
    {
      name: 'an output in /etc/cron.d',
      send: () => post(spec('r-cron', { output: { dir: '/etc/cron.d' } })),
      status: 400,
      says: /output\.dir "\/etc\/cron\.d" is outside/,
    },
    {
      name: 'an output escaping a root with ..',
      send: () => post(spec('r-dotdot', { output: { dir: join(root, '..', 'elsewhere') } })),
      status: 400,
      says: /outside the allowed output roots/,
    },
    ...[
      'http://127.0.0.1:6379/',
      'http://localhost:8080/hook',
      'http://169.254.169.254/latest/meta-data/',
      'http://10.1.2.3/x',
      'http://192.168.0.10/x',
      'http://[::1]:8080/x',
      'http://[::ffff:127.0.0.1]:8080/x',
      'http://2130706433/x',
      'http://127.0.0.2:9999/x',
    ].map((notify) => ({
      name: `notify to ${notify}`,
      send: () => post(spec(`r-ssrf-${randomBytes(3).toString('hex')}`, { notify })),
      status: 400,
      says: /notify: targets a loopback, link-local or private address/,
    })),
  ];

  it.each(cases)('$name', async ({ send, status, says }) => {
    const res = await send();
    expect([status].flat()).toContain(res.statusCode);
    if (says) expect((JSON.parse(res.body) as { error: { message: string } }).error.message).toMatch(says);
  });

  it('accepts an allow-listed private notify target and a spec inside the roots', async () => {
    const res = await post(spec('r-allowed', { notify: 'http://127.0.0.2:8443/hook' }));
    expect(res.statusCode).toBe(201);
  });

  it('refuses the same run id with another spec (409 naming what differs), accepts the same spec', async () => {
    expect((await post(spec('r-same'))).statusCode).toBe(201);
    expect((await post(spec('r-same'))).statusCode).toBe(200);
    const res = await post(spec('r-same', { workflow: { workflowId: 'other' }, maxParallelTasks: 3 }));
    expect(res.statusCode).toBe(409);
    expect(res.json().error.message).toMatch(
      /exists with another spec: maxParallelTasks, workflow\.workflowId differ/,
    );
  });
});

describe('gateway: notify secrets are never shown back', () => {
  it('redacts the path and query of the notify URL in GET /runs/:id, the board, job data and Redis', async () => {
    const notify = `https://hooks.example.com/services/${PATH_SECRET}?code=${QUERY_SECRET}`;
    expect((await post(spec('r-secret', { notify }))).statusCode).toBe(201);
    const view = await app.inject({ method: 'GET', url: '/runs/r-secret', headers: auth });
    expect(view.json().spec.notify).toBe('https://hooks.example.com/<redacted>');
    const list = await app.inject({ method: 'GET', url: '/runs', headers: auth });
    const board = await app.inject({
      method: 'GET',
      url: '/board/api/queues?activeQueue=runs&status=waiting&page=1',
      headers: auth,
    });
    expect(board.statusCode).toBe(200);
    expect(board.body).toContain('r-secret');
    for (const text of [view.body, list.body, board.body]) {
      expect(text).not.toContain(PATH_SECRET);
      expect(text).not.toContain(QUERY_SECRET);
    }
    // Redis: only the run's own `:notify` key holds the URL (the finalize stage needs it).
    const redis = new Redis(testRedisUrl());
    try {
      const keys = await redis.keys(`${prefix}:*`);
      const holders: string[] = [];
      for (const key of keys) {
        const type = await redis.type(key);
        const value =
          type === 'string'
            ? await redis.get(key)
            : type === 'hash'
              ? JSON.stringify(await redis.hgetall(key))
              : type === 'list'
                ? JSON.stringify(await redis.lrange(key, 0, -1))
                : type === 'stream'
                  ? JSON.stringify(await redis.xrange(key, '-', '+'))
                  : '';
        if (value?.includes(PATH_SECRET) || value?.includes(QUERY_SECRET)) holders.push(key);
      }
      expect(holders).toEqual([`${prefix}:run:r-secret:notify`]);
    } finally {
      redis.disconnect();
    }
    // The workers still get the real URL.
    expect((await ctx.store.spec('r-secret')).notify).toBe(notify);
  });
});

describe('gateway: start-up and limits', () => {
  it('drops a client that trickles its body after the request timeout', async () => {
    const gw = await startGateway(ctx, { host: '127.0.0.1', port: 0, requestTimeoutMs: 500 });
    try {
      const { port } = new URL(gw.url);
      const socket = connect(Number(port), '127.0.0.1');
      const started = Date.now();
      const closed = new Promise<number>((resolve) =>
        socket.on('close', () => resolve(Date.now() - started)),
      );
      socket.on('error', () => undefined);
      socket.write(
        `POST /runs HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${TOKEN}\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{`,
      );
      const trickle = setInterval(() => socket.write(' '), 100);
      const tookMs = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(-1), 5_000))]);
      clearInterval(trickle);
      socket.destroy();
      expect(tookMs).toBeGreaterThan(0);
      expect(tookMs).toBeLessThan(3_000);
    } finally {
      await gw.close();
    }
  });

  it('refuses to listen beyond loopback without allowed roots', async () => {
    const open = createServiceContext(
      loadConfig({
        REDIS_URL: testRedisUrl(),
        RFBATCH_PREFIX: prefix,
        ROBOFLOW_API_KEY: 'k',
        RFBATCH_GATEWAY_TOKEN: TOKEN,
      }),
      createLogger({ level: 'silent' }),
    );
    try {
      // Refused before binding: nothing listens on 0.0.0.0.
      await expect(startGateway(open, { host: '0.0.0.0', port: 0 })).rejects.toThrow(/RFBATCH_ALLOWED_ROOTS/);
    } finally {
      await closeServiceContext(open);
    }
  });

  it('the gateway and the workers refuse an evicting Redis unless told to start anyway; /healthz says it', async () => {
    const evicting = await spawnRedis();
    try {
      const admin = new Redis(evicting.url);
      await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
      admin.disconnect();
      const make = (env: Record<string, string> = {}) =>
        createServiceContext(config({ REDIS_URL: evicting.url, ...env }), createLogger({ level: 'silent' }));
      const strict = make();
      try {
        await expect(startGateway(strict, { host: '127.0.0.1', port: 0 })).rejects.toThrow(
          /maxmemory-policy is "allkeys-lru".*noeviction.*RFBATCH_ALLOW_EVICTION/,
        );
        await expect(startServices(strict, prepareServices([jobsService], { env: {} }))).rejects.toThrow(
          /maxmemory-policy is "allkeys-lru"/,
        );
      } finally {
        await closeServiceContext(strict);
      }
      const insisting = make({ RFBATCH_ALLOW_EVICTION: 'true' });
      const gw = await startGateway(insisting, { host: '127.0.0.1', port: 0 });
      try {
        const health = (await (await fetch(`${gw.url}/healthz`)).json()) as {
          redis: Record<string, unknown>;
        };
        expect(health.redis).toMatchObject({
          ok: true,
          maxmemoryPolicy: 'allkeys-lru',
          warning: expect.stringMatching(/evict/),
        });
      } finally {
        await gw.close();
        await closeServiceContext(insisting);
      }
    } finally {
      await evicting.stop();
    }
    const health = await app.inject({ method: 'GET', url: '/healthz' });
    expect(health.json().redis).toMatchObject({ ok: true, maxmemoryPolicy: 'noeviction' });
    expect(health.json().redis.warning).toBeUndefined();
  });

  it('workers check the real path: a symlink inside a root that leads out is refused', async () => {
    await symlink('/usr/lib', join(root, 'in', 'escape'));
    const roots = ctx.config.roots;
    await expect(
      checkRootsReally(
        {
          source: { kind: 'directory', path: join(root, 'in', 'escape') } as never,
          output: { dir: join(root, 'out', 'x') } as never,
        },
        roots,
      ),
    ).rejects.toThrow(/source\.path ".*escape" \(it leads to \/usr\/lib\) is outside/);
    await expect(
      checkRootsReally(
        {
          source: { kind: 'directory', path: join(root, 'in') } as never,
          output: { dir: join(root, 'out', 'new', 'deeper') } as never,
        },
        roots,
      ),
    ).resolves.toBeUndefined();
  });
});

// --- notify: send-time checks -------------------------------------------------------------------

interface Listener {
  port: number;
  connections: () => number;
  close: () => Promise<void>;
}

/** A loopback HTTP listener answering `status` (a Location for redirects), counting connections. */
async function httpListener(status: number, location?: string): Promise<Listener> {
  let connections = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(status, location ? { location } : {});
      res.end();
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A loopback TCP listener that speaks no HTTP (as Redis would): it answers garbage and closes. */
async function tcpListener(): Promise<Listener> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server: TcpServer = createTcpServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.end('-ERR unknown command\r\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

const fast = { attempts: 2, timeoutMs: 1_000, retryDelayMs: 10 };

describe('notify: refused targets, redirects and one neutral message', () => {
  it.each([
    { name: 'an address literal', url: (p: number) => `http://127.0.0.1:${p}/hook` },
    { name: 'a name that resolves to loopback', url: (p: number) => `http://localhost:${p}/hook` },
    { name: 'an IPv4-mapped IPv6 literal', url: (p: number) => `http://[::ffff:127.0.0.1]:${p}/hook` },
  ])('refuses $name at send time: no connection reaches the listener', async ({ url }) => {
    const target = await httpListener(200);
    try {
      const outcome = await postSummary(url(target.port), { runId: 'r' }, fast);
      expect(outcome.ok).toBe(false);
      expect(target.connections()).toBe(0);
    } finally {
      await target.close();
    }
  });

  it('delivers to an allow-listed loopback target', async () => {
    const target = await httpListener(204);
    try {
      const allow = parseNotifyAllow(`127.0.0.1:${target.port}`);
      const outcome = await postSummary(`http://127.0.0.1:${target.port}/hook`, {}, { ...fast, allow });
      expect(outcome).toEqual({ ok: true, status: 204, attempts: 1 });
      const byName = await postSummary(`http://localhost:${target.port}/hook`, {}, { ...fast, allow });
      expect(byName.ok).toBe(true);
    } finally {
      await target.close();
    }
  });

  it('never follows a redirect, even to an allowed target', async () => {
    const second = await httpListener(200);
    const first = await httpListener(307, `http://127.0.0.1:${second.port}/stolen`);
    try {
      const allow = parseNotifyAllow('127.0.0.1');
      const outcome = await postSummary(`http://127.0.0.1:${first.port}/hook`, {}, { ...fast, allow });
      expect(outcome.ok).toBe(false);
      expect(first.connections()).toBe(1);
      expect(second.connections()).toBe(0);
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('says the same thing for a closed port, an open non-HTTP port, an HTTP error and a refused target', async () => {
    const http = await httpListener(404);
    const tcp = await tcpListener();
    const closed = await httpListener(200);
    const closedPort = closed.port;
    await closed.close();
    const allow = parseNotifyAllow('127.0.0.1');
    try {
      const reasons = await Promise.all(
        [
          postSummary(`http://127.0.0.1:${closedPort}/p/${PATH_SECRET}`, {}, { ...fast, allow }),
          postSummary(`http://127.0.0.1:${tcp.port}/p/${PATH_SECRET}`, {}, { ...fast, allow }),
          postSummary(`http://127.0.0.1:${http.port}/p/${PATH_SECRET}`, {}, { ...fast, allow }),
          postSummary(`http://127.0.0.1:${http.port}/p/${PATH_SECRET}`, {}, fast),
        ].map(async (p) => {
          const o = await p;
          return o.ok ? 'delivered' : o.reason.replace(/:\d+\//, ':<port>/');
        }),
      );
      expect(new Set(reasons)).toEqual(
        new Set(['no receiver at http://127.0.0.1:<port>/<redacted> accepted it']),
      );
      expect(reasons.join()).not.toContain(PATH_SECRET);
    } finally {
      await http.close();
      await tcp.close();
    }
  });
});
