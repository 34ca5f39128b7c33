/** The browser tests find a Chromium by themselves, and fail loudly when none can be had. */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findChromium } from '@rfbatch/testkit/browser';

describe('findChromium', () => {
  it('takes CHROMIUM_PATH when set, and refuses one that does not exist', async () => {
    await expect(findChromium({ env: { CHROMIUM_PATH: '/nonexistent/chromium' } })).rejects.toThrow(
      'CHROMIUM_PATH=/nonexistent/chromium does not exist',
    );
    const found = await findChromium({ env: { CHROMIUM_PATH: process.execPath } });
    expect(found).toMatchObject({ executablePath: process.execPath, source: 'CHROMIUM_PATH' });
  });

  it('without a system Chromium, unpacks the one @sparticuz/chromium ships, with its libraries', async () => {
    const found = await findChromium({ env: {}, systemPaths: [] });
    expect(found.source).toMatch(/^@sparticuz\/chromium \d+\.\d+\.\d+$/);
    expect(existsSync(found.executablePath)).toBe(true);
    expect(found.env.LD_LIBRARY_PATH?.split(':')[0]).toMatch(/rfbatch-chromium-/);
    expect(existsSync(`${found.env.LD_LIBRARY_PATH?.split(':')[0]}/libnss3.so`)).toBe(true);
  });

  it('fails loudly, naming what it tried and what to do, when none can be had', async () => {
    await expect(
      findChromium({ env: { RFBATCH_TEST_BROWSER: 'system' }, systemPaths: ['/nonexistent/chrome'] }),
    ).rejects.toThrow(
      /^no Chromium for the browser tests: no system Chromium \(\/nonexistent\/chrome\) — install one \(`apt-get install -y chromium`\), run `npm ci` for @sparticuz\/chromium, or set CHROMIUM_PATH$/,
    );
  });
});
