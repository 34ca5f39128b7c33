import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseNotifyAllow } from '@rfbatch/shared';
import { postSummary } from './notify.js';

/** These receivers are on loopback: allowed, as an operator would allow a local one. */
const allow = parseNotifyAllow('127.0.0.1');

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

/** A receiver that answers the given statuses in turn and records the bodies. */
async function receiver(statuses: number[]) {
  const bodies: unknown[] = [];
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      bodies.push(JSON.parse(text));
      res.statusCode = statuses.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook?token=abc123`, bodies };
}

describe('postSummary', () => {
  it('retries 5xx and delivers the summary', async () => {
    const r = await receiver([503, 502]);
    const outcome = await postSummary(
      r.url,
      { runId: 'r1' },
      { attempts: 4, timeoutMs: 2_000, retryDelayMs: 10, allow },
    );
    expect(outcome).toEqual({ ok: true, status: 200, attempts: 3 });
    expect(r.bodies).toEqual([{ runId: 'r1' }, { runId: 'r1' }, { runId: 'r1' }]);
  });

  it('stops at a 4xx and never shows the URL query', async () => {
    const r = await receiver([404]);
    const outcome = await postSummary(r.url, {}, { attempts: 4, timeoutMs: 2_000, retryDelayMs: 10, allow });
    expect(outcome.ok).toBe(false);
    expect(outcome.attempts).toBe(1);
    expect(JSON.stringify(outcome)).not.toContain('abc123');
  });

  it('gives up on an unreachable receiver after the tries', async () => {
    const outcome = await postSummary(
      'http://127.0.0.1:1/x',
      {},
      { attempts: 2, timeoutMs: 1_000, retryDelayMs: 10, allow },
    );
    expect(outcome).toMatchObject({ ok: false, attempts: 2 });
    if (!outcome.ok) expect(outcome.detail).toMatch(/not reached.*after 2 tries/);
  });
});
