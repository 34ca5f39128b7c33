/**
 * Private Redis topologies on loopback free ports for the production-mode tests: a 3-master Cluster,
 * a TLS server with an ACL user and a self-signed CA, and a master + replica + Sentinel. Each is
 * stopped (and its folder removed) by its `stop`.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, redisAnswers } from '@rfbatch/shared';
import { waitFor } from '@rfbatch/testkit/wait-for';

export interface Server {
  port: number;
  child: ChildProcess;
  /** SIGKILL, as a crash. */
  kill(): Promise<void>;
}

function start(args: string[], cwd: string, port: number): Server {
  const child = spawn('redis-server', args, { cwd, stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    port,
    child,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

async function answering(port: number, what: string): Promise<void> {
  await waitFor(async () => ((await redisAnswers('127.0.0.1', port)) ? true : undefined), 10_000, what, 50);
}

const BASE = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'];

export interface Topology {
  dir: string;
  servers: Server[];
  stop(): Promise<void>;
}

function topology(label: string): Topology {
  const dir = mkdtempSync(join(tmpdir(), `rfb-${label}-`));
  const servers: Server[] = [];
  return {
    dir,
    servers,
    async stop() {
      for (const s of servers) await s.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Three masters, no replicas, every slot assigned (`redis-cli --cluster create`). */
export async function startCluster(): Promise<Topology & { url: string }> {
  const t = topology('cluster');
  try {
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const args = ['--port', String(port), ...BASE, '--cluster-enabled', 'yes'];
      args.push('--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '5000');
      t.servers.push(start(args, t.dir, port));
      await answering(port, `cluster node on ${port}`);
    }
    execFileSync(
      'redis-cli',
      ['--cluster', 'create', ...t.servers.map((s) => `127.0.0.1:${s.port}`), '--cluster-yes'],
      { stdio: 'pipe', timeout: 30_000 },
    );
    const probe = new Redis(t.servers[0]!.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
    try {
      await waitFor(
        async () => (/cluster_state:ok/.test(await probe.cluster('INFO')) ? true : undefined),
        20_000,
        'cluster_state:ok',
        100,
      );
    } finally {
      probe.disconnect();
    }
    return { ...t, url: `redis://127.0.0.1:${t.servers[0]!.port}` };
  } catch (error) {
    await t.stop();
    throw error;
  }
}

/**
 * A TLS-only redis-server (no plain port) whose certificate a fresh self-signed CA signed, with the
 * default user off and one ACL user. `caFile` is what RFBATCH_REDIS_TLS_CA names.
 */
export async function startTlsRedis(
  user: string,
  password: string,
): Promise<Topology & { url: string; caFile: string }> {
  const t = topology('tls');
  try {
    const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: t.dir, stdio: 'pipe' });
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=rfbatch test CA',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
    );
    openssl('genrsa', '-out', 'server.key', '2048');
    writeFileSync(join(t.dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    openssl('req', '-new', '-key', 'server.key', '-subj', '/CN=127.0.0.1', '-out', 'server.csr');
    openssl(
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      'san.ext',
      '-out',
      'server.crt',
    );
    const port = await freePort();
    const args = ['--port', '0', '--tls-port', String(port), ...BASE];
    args.push(
      '--tls-cert-file',
      'server.crt',
      '--tls-key-file',
      'server.key',
      '--tls-ca-cert-file',
      'ca.crt',
    );
    args.push('--tls-auth-clients', 'no');
    args.push('--user', 'default', 'off', '--user', user, 'on', `>${password}`, '~*', '&*', '+@all');
    t.servers.push(start(args, t.dir, port));
    await waitFor(
      () =>
        t.servers[0]!.child.exitCode === null
          ? probeTls(port)
          : Promise.reject(new Error('redis-server exited')),
      10_000,
      `TLS redis-server on ${port}`,
      100,
    );
    const enc = encodeURIComponent;
    return {
      ...t,
      url: `rediss://${enc(user)}:${enc(password)}@127.0.0.1:${port}`,
      caFile: join(t.dir, 'ca.crt'),
    };
  } catch (error) {
    await t.stop();
    throw error;
  }
}

/** True once something accepts a TCP connection on the port (a TLS server does not answer a plain PING). */
async function probeTls(port: number): Promise<true | undefined> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(undefined));
  });
}

/** A master, one replica of it, and one Sentinel watching it (quorum 1, fast failover). */
export async function startSentinel(
  name: string,
): Promise<Topology & { url: string; master: Server; replica: Server; sentinel: Server }> {
  const t = topology('sentinel');
  try {
    const [mp, rp, sp] = [await freePort(), await freePort(), await freePort()];
    const master = start(['--port', String(mp), ...BASE], t.dir, mp);
    t.servers.push(master);
    await answering(mp, 'the master');
    const replica = start(['--port', String(rp), ...BASE, '--replicaof', '127.0.0.1', String(mp)], t.dir, rp);
    t.servers.push(replica);
    await answering(rp, 'the replica');
    const conf = join(t.dir, 'sentinel.conf');
    writeFileSync(
      conf,
      [
        `port ${sp}`,
        'bind 127.0.0.1',
        `dir ${t.dir}`,
        `sentinel monitor ${name} 127.0.0.1 ${mp} 1`,
        `sentinel down-after-milliseconds ${name} 1000`,
        `sentinel failover-timeout ${name} 5000`,
        `sentinel parallel-syncs ${name} 1`,
        '',
      ].join('\n'),
    );
    const sentinel = start([conf, '--sentinel'], t.dir, sp);
    t.servers.push(sentinel);
    await answering(sp, 'the sentinel');
    const probe = new Redis(rp, '127.0.0.1', { maxRetriesPerRequest: 1 });
    try {
      await waitFor(
        async () => (/master_link_status:up/.test(await probe.info('replication')) ? true : undefined),
        15_000,
        'the replica in sync',
        100,
      );
    } finally {
      probe.disconnect();
    }
    return { ...t, url: `redis://127.0.0.1:${sp}`, master, replica, sentinel };
  } catch (error) {
    await t.stop();
    throw error;
  }
}
