/**
 * Real object-storage servers for tests, from the npm registry, on 127.0.0.1 ports chosen at run time:
 * s3rver (S3 API: listings, ranged and presigned GETs, multipart uploads; it does not check
 * signatures) and Azure's own emulator azurite (Blob API; it checks SAS signatures and expiry).
 * Each returns the environment variables that point the SDKs at it, the way a user would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface ObjectServer {
  /** Variables for the SDKs (AWS_* or AZURE_STORAGE_CONNECTION_STRING), to pass to processes or set. */
  env: Record<string, string>;
  endpoint: string;
  /** Creates a bucket/container. */
  createBucket(name: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * s3rver as a child process, buckets created on demand. Its credentials are its built-in public pair
 * (`S3RVER` / `S3RVER`), or `keys` in their place (the built-in one revoked): a test that hunts for
 * leaked credentials needs ones that appear nowhere else. s3rver refuses any other key id.
 * A child, because its continuation tokens use DES, which Node's OpenSSL 3 offers only with the legacy
 * provider: that flag is the server's own business, not the test process's.
 */
export async function startS3Server(
  options: { keys?: { id: string; secret: string } } = {},
): Promise<ObjectServer> {
  const directory = await mkdtemp(join(tmpdir(), 'rfbatch-s3-'));
  const root = join(createRequire(import.meta.url).resolve('s3rver/package.json'), '..');
  const keys = options.keys ?? { id: 'S3RVER', secret: 'S3RVER' };
  const script = `
    const [root, directory] = process.argv.slice(1);
    const { S3_KEY_ID: id, S3_SECRET: secret } = process.env;
    const S3rver = require(root);
    const { DUMMY_ACCOUNT } = require(root + '/lib/models/account.js');
    if (id !== 'S3RVER') {
      DUMMY_ACCOUNT.revokeAccessKey('S3RVER');
      DUMMY_ACCOUNT.createKeyPair(id, secret);
    }
    new S3rver({ directory, address: '127.0.0.1', port: 0, silent: true })
      .run()
      .then(({ port }) => console.log('listening on 127.0.0.1:' + port));`;
  // The keys reach the child through its environment, never its command line (seen in process lists).
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', script, root, directory], {
    env: { PATH: process.env.PATH ?? '', S3_KEY_ID: keys.id, S3_SECRET: keys.secret },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const port = await listeningPort(child, 's3rver', /listening on 127\.0\.0\.1:(\d+)/);
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    env: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: keys.id,
      AWS_SECRET_ACCESS_KEY: keys.secret,
      AWS_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
    },
    async createBucket(name) {
      const res = await fetch(`${endpoint}/${name}`, { method: 'PUT' });
      if (!res.ok && res.status !== 409)
        throw new Error(`s3rver: creating bucket ${name} answered ${res.status}`);
    },
    close: () => stop(child, directory),
  };
}

/** The port a server child prints once it listens (30 s at most, else its stderr in the error). */
function listeningPort(child: ChildProcess, name: string, pattern: RegExp): Promise<number> {
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-2000)));
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start in 30 s: ${stderr}`)), 30_000);
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}: ${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = pattern.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
  });
}

async function stop(child: ChildProcess, dir: string): Promise<void> {
  if (child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  await rm(dir, { recursive: true, force: true });
}

/** The emulator's documented development account (public, not a secret). */
const AZURITE_ACCOUNT = 'devstoreaccount1';
const AZURITE_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** azurite's Blob service as a child process (telemetry off), on a port it picks. */
export async function startAzurite(): Promise<ObjectServer> {
  const location = await mkdtemp(join(tmpdir(), 'rfbatch-azurite-'));
  const bin = join(
    createRequire(import.meta.url).resolve('azurite/package.json'),
    '..',
    'dist/src/blob/main.js',
  );
  const child = spawn(
    process.execPath,
    [
      bin,
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      '0',
      '--location',
      location,
      '--silent',
      '--disableTelemetry',
      '--skipApiVersionCheck',
      '--loose',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const port = await listeningPort(child, 'azurite', /listens on http:\/\/127\.0\.0\.1:(\d+)/);
  const endpoint = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
  const connection = `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};BlobEndpoint=${endpoint};`;
  return {
    endpoint,
    env: { AZURE_STORAGE_CONNECTION_STRING: connection },
    async createBucket(name) {
      const { BlobServiceClient } = await import('@azure/storage-blob');
      await BlobServiceClient.fromConnectionString(connection).getContainerClient(name).createIfNotExists();
    },
    close: () => stop(child, location),
  };
}
