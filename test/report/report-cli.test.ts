/** `rfbatch status` prints where a completed run's report is; `rfbatch report` writes it again by id or folder. */
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pngBytes } from '@rfbatch/testkit/images';
import { writeTree } from '@rfbatch/testkit/source-tree';
import { startStack, type Stack } from '@rfbatch/testkit/stack';
import { cli } from '../cli/cli-harness.js';

let stack: Stack;
let env: Record<string, string>;
beforeAll(async () => {
  stack = await startStack();
  env = { ...stack.env, LOG_LEVEL: 'error' };
});
afterAll(async () => {
  await stack?.close();
});

describe('rfbatch report', () => {
  it('status prints the report path; report rewrites it by run id and by folder; an unknown run is named', async () => {
    const source = join(stack.workDir, 'cli-report');
    await writeTree(
      source,
      Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`s/${i}.png`, pngBytes(`cli-${i}`, 0, 24)])),
    );
    const runId = await stack.submit({ source: { kind: 'directory', path: source } });
    expect((await stack.waitForRun(runId, 60_000)).status).toBe('completed');
    const out = join(stack.outputDir, runId);
    const report = join(out, 'report.html');

    const status = await cli(['status', runId], env);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`  report    ${report}\n`);

    await rm(report);
    const byId = await cli(['report', runId], env);
    expect(byId).toMatchObject({ code: 0, stdout: `${report}\n` });
    expect(byId.stderr).toMatch(/report: 6 items, 6 in the gallery \(6 thumbnails\)/);
    const html = await readFile(report, 'utf8');
    expect(html.match(/<img src="data:image\/webp;base64,/g)).toHaveLength(6);
    expect(html).toContain(`rfbatch run ${source} --workflow wf-test --out ${out}`);

    await rm(report);
    const byFolder = await cli(['report', out], env);
    expect(byFolder).toMatchObject({ code: 0, stdout: `${report}\n` });
    expect(existsSync(report)).toBe(true);

    const unknown = await cli(['report', 'r-no-such-run'], env);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    expect(unknown.stderr).toMatch(/r-no-such-run/);
  });
});
