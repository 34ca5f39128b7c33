/**
 * Completion by webhook: the remote job's notification reaches the gateway, which promotes the
 * delayed await job. With polls 60 s apart, only the webhook can finish the run within the test.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pngBytes } from '@rfbatch/testkit/images';
import { writeTree } from '@rfbatch/testkit/source-tree';
import { startStack, type Stack } from '@rfbatch/testkit/stack';
import { buildJobBody, webhookUrl } from '@rfbatch/shared';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    gateway: true,
    emulator: { webhooks: true },
    jobs: { pollMinMs: 60_000, pollMaxMs: 60_000 },
  });
});
afterAll(() => stack.close());

describe('webhooks', () => {
  it('a job notification finishes the run long before the next poll', async () => {
    const dir = join(stack.workDir, 'hook');
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 10; i++) files[`h-${i}.png`] = pngBytes(`hook-${i}`);
    await writeTree(dir, files);
    const runId = await stack.submit({ source: { kind: 'directory', path: dir } });
    const spec = await stack.ctx.store.spec(runId);
    // The job body carried the gateway's webhook route.
    const url = webhookUrl(stack.config);
    expect(url).toBe(`${stack.gatewayUrl}/webhooks/roboflow/${stack.config.gateway.webhookSecret}`);
    expect(buildJobBody(spec, 'local', url).notificationsURL).toBe(url);

    const state = await stack.waitForRun(runId, 30_000);
    expect(state.status).toBe('completed');
    expect(stack.emulator.state().webhooks.delivered).toBeGreaterThanOrEqual(1);
  });
});
