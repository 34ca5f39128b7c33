/**
 * The report of a demo-like run in a real browser (headless Chromium via playwright-core, found by
 * the test kit's findChromium as the board test does), served by the gateway behind its token: the
 * counts shown equal summary.json, the gallery shows the sampled images with their boxes, the failed
 * and skipped items are listed with their reasons, and the page loads nothing but itself. A
 * screenshot is saved to test/artifacts/.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSampleImages } from '@rfbatch/cli';
import { findChromium } from '@rfbatch/testkit/browser';
import { startStack, type Stack } from '@rfbatch/testkit/stack';
import { repoRoot } from '../cli/cli-harness.js';

const TOKEN = 'report-test-token';
export const REPORT_SCREENSHOT = join(repoRoot, 'test', 'artifacts', 'report-demo-run.png');

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const JPEG_START = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]);

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  // A system Chromium, else the one @sparticuz/chromium ships; none is a loud error (testkit/browser.ts).
  const found = await findChromium();
  stack = await startStack({ gateway: true, env: { RFBATCH_GATEWAY_TOKEN: TOKEN } });
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

describe('report.html in a browser', () => {
  it('shows the counts of summary.json, the sample with boxes and every failed and skipped item', async () => {
    // The demo's sample images, plus two files the API cannot decode and one that is not an image.
    const sample = await generateSampleImages(join(stack.workDir, 'demo'), 120);
    // They start like a PNG and a JPEG (so they are uploaded), but their headers are cut short.
    await writeFile(
      join(sample.dir, 'broken-1.png'),
      Buffer.concat([PNG_SIGNATURE, Buffer.from('garbage!'.repeat(4))]),
    );
    await writeFile(join(sample.dir, 'broken-2.jpg'), Buffer.concat([JPEG_START, Buffer.alloc(30)]));
    await writeFile(join(sample.dir, 'notes.txt'), 'field notes');
    const runId = await stack.submit({
      source: { kind: 'directory', path: sample.dir },
      workflow: { workflowId: 'demo-detector' },
    });
    expect((await stack.waitForRun(runId, 60_000)).status).toBe('completed');
    const out = join(stack.outputDir, runId);
    const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8')) as {
      statusCounts: Record<string, number>;
      counts: { sourceFiles: number };
    };
    expect(summary.statusCounts).toMatchObject({ ok: 120, failed: 2, skipped: 1 });

    // Behind the gateway's auth: no token, no report.
    const url = `${stack.gatewayUrl}/runs/${runId}/report`;
    expect((await fetch(url)).status).toBe(401);
    const unknown = await fetch(`${stack.gatewayUrl}/runs/r-no-such-run/report`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(unknown.status).toBe(404);

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const requested: string[] = [];
    page.on('request', (r) => requested.push(r.url()));
    await page.setExtraHTTPHeaders({ authorization: `Bearer ${TOKEN}` });
    const response = await page.goto(url);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-type']).toMatch(/^text\/html/);

    // The counts shown are summary.json's.
    for (const [status, n] of Object.entries(summary.statusCounts))
      expect(await page.locator(`[data-count="${status}"]`).innerText(), status).toBe(
        n.toLocaleString('en-US'),
      );
    expect(await page.locator('[data-count="sourceFiles"]').innerText()).toBe(
      String(summary.counts.sourceFiles),
    );
    expect(Number(await page.locator('[data-count="detections"]').innerText())).toBeGreaterThan(0);

    // The gallery: 60 sampled images, decoded by the browser, boxes drawn where the results have them.
    const figures = page.locator('#gallery figure');
    expect(await figures.count()).toBe(60);
    // No DOM types here: the image's own fields, as the browser gives them.
    const loaded = await page.$$eval('#gallery img', (imgs) =>
      imgs.map((i) => {
        const img = i as unknown as { complete: boolean; naturalWidth: number };
        return img.complete && img.naturalWidth > 0;
      }),
    );
    expect(loaded).toHaveLength(60);
    expect(loaded.every(Boolean)).toBe(true);
    const boxes = await page.locator('#gallery svg rect').count();
    const expected = await figures.evaluateAll((f) =>
      f.reduce((n, el) => n + Number(el.getAttribute('data-boxes')), 0),
    );
    expect(boxes).toBe(expected);
    expect(boxes).toBeGreaterThan(0);
    const firstBox = await page.locator('#gallery svg rect').first().boundingBox();
    expect(firstBox?.width).toBeGreaterThan(1);

    // Every failed and skipped item, with its reason.
    const rows = page.locator('#problems tbody tr');
    expect(await rows.count()).toBe(3);
    const text = await page.locator('#problems').innerText();
    expect(text).toContain('broken-1.png');
    expect(text).toContain('broken-2.jpg');
    expect(text).toMatch(/notes\.txt\s+skipped\s+not-media/);
    expect(text).toMatch(/could not decode image/);

    // Self-contained: the page asked for nothing but itself.
    expect(requested).toEqual([url]);

    await mkdir(join(repoRoot, 'test', 'artifacts'), { recursive: true });
    await page.screenshot({ path: REPORT_SCREENSHOT, fullPage: true });
    expect(existsSync(REPORT_SCREENSHOT)).toBe(true);
    await page.close();
  });
});
