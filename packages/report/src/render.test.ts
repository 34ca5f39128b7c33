import { describe, expect, it } from 'vitest';
import { resolveRunSpec, RunSpecSchema } from '@rfbatch/shared';
import { renderReport } from './render.js';
import { reportSpec, reproduceCommand } from './reproduce.js';
import { RunStats } from './stats.js';
import { RunSummary } from './summary.schema.js';

const spec = resolveRunSpec(
  RunSpecSchema.parse({
    source: { kind: 'directory', path: '/data/my images', include: ['jpg'] },
    workflow: { workflowId: 'detect-cars', aggregationFormat: 'csv', parameters: { threshold: 0.4 } },
    output: { dir: '/out/run' },
    notify: 'https://hooks.example.com/services/T000/B000/s3cr3tT0ken',
  }),
);

describe('the report page', () => {
  it('escapes every value from the results and keeps secrets out', () => {
    const stats = new RunStats();
    stats.add({ source: '<img src=x onerror=alert(1)>.png', status: 'failed', reason: '<b>bad</b> "quote"' });
    const html = renderReport({
      summary: RunSummary.parse({ runId: 'r-1', statusCounts: { failed: 1 } }),
      stats,
      tiles: [],
      reproduce: { command: reproduceCommand(spec), spec: reportSpec(spec) },
      generatedAt: new Date('2026-01-01T00:00:00Z'),
    });
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;.png');
    expect(html).toContain('&lt;b&gt;bad&lt;/b&gt; &quot;quote&quot;');
    expect(html).not.toContain('s3cr3tT0ken');
    expect(html).toContain('https://hooks.example.com/&lt;redacted&gt;');
    expect(html).toMatch(/Content-Security-Policy" content="default-src 'none'/);
  });

  it('the command runs the same source and Workflow again, quoted for a shell', () => {
    expect(reproduceCommand(spec)).toBe(
      "rfbatch run '/data/my images' --workflow detect-cars --out /out/run --include jpg --aggregation csv --param threshold=0.4 --notify 'https://hooks.example.com/<redacted>'",
    );
  });
});
