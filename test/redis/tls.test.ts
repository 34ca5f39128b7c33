/**
 * Issue 17: `rediss://` with a Redis ACL user and password, against a TLS-only redis-server whose
 * certificate a self-signed CA (made here with openssl) signed, the CA passed by RFBATCH_REDIS_TLS_CA.
 * A whole run goes through it; without the CA the connection is refused by certificate checking.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, producerConnection, type RedisTarget } from '@rfbatch/shared';
import { pngBytes } from '@rfbatch/testkit/images';
import { writeTree } from '@rfbatch/testkit/source-tree';
import { startStack, type Stack } from '@rfbatch/testkit/stack';
import { startTlsRedis, type Topology } from './topologies.js';

const USER = 'rfbatch-worker';
const PASSWORD = 'tls-acl-pass-0123';
let tls: Topology & { url: string; caFile: string };
beforeAll(async () => {
  tls = await startTlsRedis(USER, PASSWORD);
});
afterAll(() => tls?.stop());

/** The first error a connection to `target` reports (it is not retried). */
async function firstError(target: RedisTarget): Promise<string> {
  const redis = producerConnection(target, { retryStrategy: () => null });
  try {
    return await new Promise<string>((resolve) => {
      redis.on('error', (error: Error) => resolve(error.message));
      redis.once('ready', () => resolve('connected'));
    });
  } finally {
    redis.disconnect();
  }
}

describe('Redis over TLS with an ACL user', () => {
  let stack: Stack;
  afterAll(() => stack?.close());

  it('runs a whole run over rediss://user:password@ with the CA from RFBATCH_REDIS_TLS_CA', async () => {
    stack = await startStack({ redisUrl: tls.url, env: { RFBATCH_REDIS_TLS_CA: tls.caFile } });
    expect(await stack.ctx.connection.acl('WHOAMI')).toBe(USER);
    const dir = join(stack.workDir, 'tls');
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 40; i++) files[`t-${i}.png`] = pngBytes(`tls-${i}`);
    await writeTree(dir, files);
    const runId = await stack.submit({ source: { kind: 'directory', path: dir } });
    const state = await stack.waitForRun(runId, 60_000);
    expect(state.error).toBeUndefined();
    expect(state.status).toBe('completed');
    const lines = (await readFile(join(stack.outputDir, runId, 'results.jsonl'), 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(40);
  });

  it('without the CA the certificate is refused; with a wrong password the ACL refuses', async () => {
    expect(await firstError(loadConfig({ REDIS_URL: tls.url }).redis)).toMatch(/self.signed|certificate/i);
    const wrong = tls.url.replace(encodeURIComponent(PASSWORD), 'not-the-password');
    expect(
      await firstError(loadConfig({ REDIS_URL: wrong, RFBATCH_REDIS_TLS_CA: tls.caFile }).redis),
    ).toMatch(/WRONGPASS|invalid username-password/i);
  });
});
