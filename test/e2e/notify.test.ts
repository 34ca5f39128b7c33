/**
 * Issue 17, notifications: the run's notify URL hears of every end state (completed, failed,
 * cancelled) and of the expiry warning, once each, with the event type; a Slack-format notifier
 * sends `{ text }` only. The receiver is a real HTTP server on loopback, allowed the way an operator
 * allows one (RFBATCH_NOTIFY_ALLOW); the path carries a token the run's views must not show.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pngBytes } from '@rfbatch/testkit/images';
import { writeTree } from '@rfbatch/testkit/source-tree';
import { startStack, type Stack } from '@rfbatch/testkit/stack';
import { waitFor } from '@rfbatch/testkit/wait-for';
import { cancelRun, warnIfExpiring } from '@rfbatch/run-control';

interface Receiver {
  url: string;
  port: number;
  bodies: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

async function receiver(): Promise<Receiver> {
  const bodies: Array<Record<string, unknown>> = [];
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      bodies.push(JSON.parse(text) as Record<string, unknown>);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hooks/tok-5ecret`,
    port,
    bodies,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function source(stack: Stack, name: string, n: number): Promise<string> {
  const dir = join(stack.workDir, name);
  const files: Record<string, Buffer> = {};
  for (let i = 0; i < n; i++) files[`n-${i}.png`] = pngBytes(`${name}-${i}`);
  await writeTree(dir, files);
  return dir;
}

const noticesOf = (r: Receiver, runId: string) => r.bodies.filter((b) => b.runId === runId);

/** Waits for the run's notices to include `event`, then a moment more to catch a duplicate. */
async function noticeFor(r: Receiver, runId: string, event: string) {
  const body = await waitFor(
    () => noticesOf(r, runId).find((b) => b.event === event),
    20_000,
    () => `a ${event} notice for ${runId}; got ${JSON.stringify(noticesOf(r, runId))}`,
  );
  await new Promise((res) => setTimeout(res, 300));
  return body;
}

describe('notify: every end state and the expiry warning (JSON)', () => {
  let stack: Stack;
  let rx: Receiver;
  beforeAll(async () => {
    rx = await receiver();
    stack = await startStack({ env: { RFBATCH_NOTIFY_ALLOW: `127.0.0.1:${rx.port}` } });
  });
  afterAll(async () => {
    await stack?.close();
    await rx?.close();
  });

  it('a completed run: one run.completed notice carrying the summary', async () => {
    const runId = await stack.submit({
      source: { kind: 'directory', path: await source(stack, 'ok', 6) },
      notify: rx.url,
    });
    expect((await stack.waitForRun(runId)).status).toBe('completed');
    const body = await noticeFor(rx, runId, 'run.completed');
    expect(body).toMatchObject({ event: 'run.completed', runId, state: 'completed' });
    expect(body.counts).toMatchObject({ sourceFiles: 6, results: 6, missing: 0 });
    expect(noticesOf(rx, runId)).toHaveLength(1);
  });

  it('a failed run: one run.failed notice with the stage and the error; then the expiry warning', async () => {
    stack.emulator.setFaults({ jobFailure: 'workflow-error' });
    try {
      const runId = await stack.submit({
        source: { kind: 'directory', path: await source(stack, 'bad', 4) },
        notify: rx.url,
      });
      expect((await stack.waitForRun(runId)).status).toBe('failed');
      const body = await noticeFor(rx, runId, 'run.failed');
      expect(body).toMatchObject({ event: 'run.failed', runId, state: 'failed', failedStage: 'await' });
      expect((body.error as { message: string }).message).toMatch(/Workflow execution failed/);
      expect((body.error as { hint: string }).hint).toContain(`rfbatch retry ${runId}`);
      expect(noticesOf(rx, runId)).toHaveLength(1);

      // The staged inputs of the failed run expire within the hour: the expiry watch warns once.
      const at = new Date(Date.now() + 3_600_000).toISOString();
      await stack.ctx.store.setFields(runId, { batchExpiresAt: at });
      expect(await warnIfExpiring(stack.ctx, await stack.ctx.store.require(runId))).toBe(true);
      expect(await warnIfExpiring(stack.ctx, await stack.ctx.store.require(runId))).toBe(false);
      const warning = await noticeFor(rx, runId, 'run.expiry-warning');
      expect(warning).toMatchObject({ runId, state: 'failed', batchExpiresAt: at });
      expect(warning.message).toMatch(/staged inputs .* expire at .*within 24 h/);
      expect(noticesOf(rx, runId).map((b) => b.event)).toEqual(['run.failed', 'run.expiry-warning']);
    } finally {
      stack.emulator.setFaults({ jobFailure: null });
    }
  });

  it('a cancelled run: one run.cancelled notice', async () => {
    const runId = await stack.submit({
      source: { kind: 'directory', path: await source(stack, 'stop', 40) },
      notify: rx.url,
    });
    expect((await cancelRun(stack.ctx, runId)).cancelled).toBe(true);
    const body = await noticeFor(rx, runId, 'run.cancelled');
    expect(body).toMatchObject({ event: 'run.cancelled', runId, state: 'cancelled' });
    expect(noticesOf(rx, runId)).toHaveLength(1);
  });

  it('a run without a notify URL sends nothing, and no notice shows the URL token', async () => {
    const before = rx.bodies.length;
    const runId = await stack.submit({
      source: { kind: 'directory', path: await source(stack, 'quiet', 2) },
    });
    expect((await stack.waitForRun(runId)).status).toBe('completed');
    await new Promise((res) => setTimeout(res, 500));
    expect(rx.bodies.length).toBe(before);
    expect(JSON.stringify(rx.bodies)).not.toContain('tok-5ecret');
  });
});

describe('notify: the Slack shape', () => {
  let stack: Stack;
  let rx: Receiver;
  beforeAll(async () => {
    rx = await receiver();
    stack = await startStack({
      env: { RFBATCH_NOTIFY_ALLOW: `127.0.0.1:${rx.port}` },
      export: { notifyFormat: 'slack' },
    });
  });
  afterAll(async () => {
    await stack?.close();
    await rx?.close();
  });

  it('RFBATCH_EXPORT_NOTIFY_FORMAT=slack: the body is { text } naming the run and its end', async () => {
    const done = await stack.submit({
      source: { kind: 'directory', path: await source(stack, 'slack-ok', 3) },
      notify: rx.url,
    });
    expect((await stack.waitForRun(done)).status).toBe('completed');
    const stopped = await stack.submit({
      source: { kind: 'directory', path: await source(stack, 'slack-stop', 30) },
      notify: rx.url,
    });
    await cancelRun(stack.ctx, stopped);
    await waitFor(() => (rx.bodies.length >= 2 ? true : undefined), 20_000, 'two Slack notices');
    await new Promise((res) => setTimeout(res, 300));
    expect(rx.bodies).toHaveLength(2);
    for (const body of rx.bodies) expect(Object.keys(body)).toEqual(['text']);
    const texts = rx.bodies.map((b) => b.text as string);
    expect(texts).toContain(`:white_check_mark: rfbatch run \`${done}\` completed: 3 results`);
    expect(texts).toContain(`:no_entry_sign: rfbatch run \`${stopped}\` was cancelled`);
  });
});
