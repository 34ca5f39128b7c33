import { describe, expect, it } from 'vitest';
import type { RunState } from '@rfbatch/shared';
import { colorOn } from './color.js';
import { createRenderer, stageLines, stageMark } from './progress.js';

function run(status: RunState['status'], extra: Partial<RunState> = {}): RunState {
  return {
    runId: 'r1',
    status,
    attempt: 0,
    createdAt: '2026-11-29T10:00:00.000Z',
    updatedAt: '2026-11-29T10:00:00.000Z',
    counters: {
      sourceFiles: 4,
      planned: 4,
      filesUploaded: 4,
      indexed: 4,
      expected: 4,
    } as RunState['counters'],
    timings: {},
    warnings: [],
    uploadMode: 'single',
    ...extra,
  };
}

const job: RunState['job'] = {
  state: 'processing',
  stage: 'processing',
  progress: 0.9,
  checkedAt: '2026-11-29T10:01:00.000Z',
};

function drawn(state: RunState, color: boolean): string {
  let out = '';
  const renderer = createRenderer({ write: (t) => (out += t), tty: true, columns: 120, color, now: () => 0 });
  renderer.finish(state);
  return out;
}

describe('a failed stage', () => {
  it('is shown failed (✗), never with a check mark, at the stage the run failed', () => {
    const failed = run('failed', { failedStage: 'await', job });
    const lines = stageLines(failed);
    expect(lines.find((l) => l.label === 'job')?.state).toBe('failed');
    expect(lines.find((l) => l.label === 'index')?.state).toBe('done');
    const out = drawn(failed, false);
    expect(out).toMatch(/ ✗ job +\S* +90% +failed · processing 90%/);
    expect(out).not.toMatch(/✓ job/);
  });

  it('is red on a terminal with colour, done green, and plain without colour', () => {
    const out = drawn(run('failed', { failedStage: 'verify' }), true);
    expect(out).toContain('\x1b[31m✗\x1b[0m index');
    expect(out).toContain('\x1b[32m✓\x1b[0m upload');
    expect(drawn(run('failed', { failedStage: 'verify' }), false)).not.toContain('\x1b[31m');
    expect(stageMark('failed')).toBe('✗');
  });

  it('follows NO_COLOR and TERM=dumb, and never colours a pipe', () => {
    expect(colorOn({ isTTY: true }, {})).toBe(true);
    expect(colorOn({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(colorOn({ isTTY: true }, { NO_COLOR: '' })).toBe(true);
    expect(colorOn({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
    expect(colorOn({ isTTY: false }, {})).toBe(false);
  });
});

describe('the job line', () => {
  it('does not repeat the state as the stage (`processing · processing 11%`)', () => {
    const line = stageLines(run('processing', { job: { ...job!, progress: 0.11 } })).find(
      (l) => l.label === 'job',
    );
    expect(line?.detail).toBe('processing 11%');
    const staged = stageLines(
      run('processing', { job: { ...job!, stage: 'inference', progress: 0.11 } }),
    ).find((l) => l.label === 'job');
    expect(staged?.detail).toBe('processing · inference 11%');
  });
});
