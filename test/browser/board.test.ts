/**
 * Bull Board in a real browser (headless Chromium via playwright-core): during a run it shows every
 * rfbatch queue and a completed job; a screenshot is saved to test/artifacts/ for the record.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findChromium } from '@rfbatch/testkit/browser';
import { pngBytes } from '@rfbatch/testkit/images';
import { writeTree } from '@rfbatch/testkit/source-tree';
import { startStack, type Stack } from '@rfbatch/testkit/stack';
import { stageJobId } from '@rfbatch/shared';
import { repoRoot } from '../cli/cli-harness.js';

const TOKEN = 'board-test-token';
export const BOARD_SCREENSHOT = join(repoRoot, 'test', 'artifacts', 'board-during-run.png');

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  // A system Chromium, else the one @sparticuz/chromium ships; none is a loud error (browser.ts).
  const found = await findChromium();
  stack = await startStack({
    gateway: true,
    env: { RFBATCH_GATEWAY_TOKEN: TOKEN },
    // Slow processing keeps the run going while the browser looks.
    emulator: { webhooks: false, processingMsPerItem: 500 },
  });
  browser = await chromium.launch({
    executablePath: found.executablePath,
    args: found.args,
    env: { ...process.env, ...found.env },
  });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

describe('Bull Board', () => {
  it('shows the rfbatch queues and a completed job while a run is processing', async () => {
    const source = join(stack.workDir, 'board-images');
    await writeTree(
      source,
      Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`set/img-${i}.png`, pngBytes(i)])),
    );
    const runId = await stack.submit({ source: { kind: 'directory', path: source } });
    // Processing: intake and plan are done, the remote job runs (40 × 500 ms).
    await stack.waitForState(runId, (s) => s.status === 'processing', 30_000);

    const page = await browser.newPage({ viewport: { width: 1680, height: 1050 } });
    // The token opens a session cookie and is dropped from the URL.
    await page.goto(`${stack.gatewayUrl}/board?token=${TOKEN}`);
    expect(page.url()).not.toContain(TOKEN);
    for (const queue of ['runs', 'ingest', 'jobs', 'export']) {
      await page
        .getByRole('link', { name: new RegExp(`^${queue}`, 'i') })
        .first()
        .waitFor({ timeout: 20_000 });
    }

    // The completed tab of the ingest queue lists the run's plan job.
    await page.goto(`${stack.gatewayUrl}/board/queue/ingest?status=completed`);
    const planJob = stageJobId('plan', runId);
    await page.getByText(planJob).first().waitFor({ timeout: 20_000 });
    expect(await page.getByText(planJob).count()).toBeGreaterThan(0);
    expect((await stack.ctx.store.require(runId)).status).not.toBe('completed');

    await mkdir(join(repoRoot, 'test', 'artifacts'), { recursive: true });
    await page.screenshot({ path: BOARD_SCREENSHOT });
    expect(existsSync(BOARD_SCREENSHOT)).toBe(true);
    await page.close();
  });
});
