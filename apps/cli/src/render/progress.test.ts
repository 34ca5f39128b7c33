import { describe, expect, it } from 'vitest';
import type { RunState } from '@rfbatch/shared';
import { bar, formatBytes, formatDuration, table, timeLeft } from './format.js';
import { createRenderer, stageLines } from './progress.js';

function run(
  status: RunState['status'],
  counters: Partial<RunState['counters']>,
  extra: Partial<RunState> = {},
): RunState {
  return {
    runId: 'r1',
    status,
    attempt: 0,
    createdAt: '2026-11-29T10:00:00.000Z',
    updatedAt: '2026-11-29T10:00:00.000Z',
    counters: counters as RunState['counters'],
    timings: {},
    warnings: [],
    ...extra,
  };
}

describe('stageLines', () => {
  it('reads each stage from the run counters, with the active one marked', () => {
    const lines = stageLines(
      run(
        'uploading',
        {
          sourceFiles: 10,
          planned: 9,
          skipped: 1,
          bytesTotal: 2048,
          bytesUploaded: 1024,
          shardsTotal: 2,
          shardsUploaded: 1,
        },
        { uploadMode: 'shards' },
      ),
    );
    expect(lines.map((l) => [l.label, l.state])).toEqual([
      ['plan', 'done'],
      ['upload', 'active'],
      ['index', 'waiting'],
      ['job', 'waiting'],
      ['download', 'waiting'],
    ]);
    expect(lines[0]?.detail).toBe('9 files planned, 1 skipped');
    expect(lines[0]?.fraction).toBe(1);
    expect(lines[1]?.fraction).toBe(0.5);
    expect(lines[1]?.detail).toBe('1.0 KB / 2.0 KB · 1/2 shards');
  });

  it('shows the remote job stage and progress, and keeps reached stages of a failed run', () => {
    const processing = stageLines(
      run(
        'processing',
        { expected: 4, indexed: 4 },
        { job: { state: 'processing', stage: 'export', progress: 0.25, checkedAt: 'x' } },
      ),
    );
    expect(processing[3]).toMatchObject({
      state: 'active',
      fraction: 0.25,
      detail: 'processing · export 25%',
    });
    const failed = stageLines(run('failed', { planned: 3, filesUploaded: 3 }));
    expect(failed.map((l) => l.state)).toEqual(['done', 'done', 'waiting', 'waiting', 'waiting']);
  });
});

describe('renderer', () => {
  it('prints plain lines off a terminal: status changes and the active stage', () => {
    let out = '';
    let now = 0;
    const r = createRenderer({ write: (s) => (out += s), tty: false, now: () => now });
    r.update(run('planning', { sourceFiles: 2, planned: 1 }));
    now = 6_000;
    r.update(run('planning', { sourceFiles: 2, planned: 2 }));
    r.finish(run('completed', { planned: 2 }, { warnings: ['3 files skipped'] }));
    expect(out).toBe(
      '    0s  planning\n    0s  plan: 1 files planned\n    6s  plan: 2 files planned\nwarning: 3 files skipped\n    6s  completed\n',
    );
  });

  it('redraws a block in place on a terminal', () => {
    let out = '';
    const r = createRenderer({ write: (s) => (out += s), tty: true, columns: 100, now: () => 0 });
    r.update(run('planning', {}));
    r.update(run('uploading', { planned: 1 }));
    expect(out).toContain('\x1b[6A');
    expect(out).toContain('run r1  uploading');
  });
});

describe('format', () => {
  it('formats bytes, durations, bars, tables and time left', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(5 * 1024 ** 3)).toBe('5.0 GB');
    expect(formatDuration(59_400)).toBe('59s');
    expect(formatDuration(3_600_000 + 120_000)).toBe('1h02m');
    expect(bar(0.5, 4)).toBe('██░░');
    expect(bar(null, 3)).toBe('░░░');
    expect(table(['A', 'BB'], [['xyz', '1']])).toBe('A    BB\nxyz  1');
    expect(timeLeft(-90)).toBe('expired 1m30s ago');
    expect(timeLeft(7 * 86_400)).toBe('7d00h left');
  });
});
