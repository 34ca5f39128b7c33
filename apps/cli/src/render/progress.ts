import type { RunState, RunStatus, Stage } from '@rfbatch/shared';
import { apiOutageLine } from '@rfbatch/run-control';
import { bar, formatBytes, formatCount, formatDuration } from './format.js';

/** One stage of a run as the progress display shows it. */
export interface StageLine {
  label: string;
  /** 0–1, or null when the total is not known yet. */
  fraction: number | null;
  detail: string;
  state: 'waiting' | 'active' | 'done' | 'failed';
}

/** The display line each stage of the catalog belongs to (where a failed run shows its ✗). */
const LINE_OF_STAGE: Record<Stage, string> = {
  plan: 'plan',
  upload: 'upload',
  verify: 'index',
  start: 'job',
  await: 'job',
  collect: 'download',
  download: 'download',
  finalize: 'download',
};

const ORDER: RunStatus[] = [
  'queued',
  'planning',
  'uploading',
  'verifying',
  'starting',
  'processing',
  'exporting',
  'completed',
];

function ratio(done: number, total: number): number | null {
  return total > 0 ? done / total : null;
}

/** The five stages of a run (plan, upload, index, job, download), read from its RunStore counters. */
export function stageLines(run: RunState): StageLine[] {
  const n = (key: keyof RunState['counters']) => run.counters[key] ?? 0;
  // A failed/cancelled run keeps the stages it reached: judge from the counters, not the status.
  const at = run.status === 'failed' || run.status === 'cancelled' ? -1 : ORDER.indexOf(run.status);
  const state = (activeAt: RunStatus, reached: boolean): StageLine['state'] => {
    const i = ORDER.indexOf(activeAt);
    if (at === -1) return reached ? 'done' : 'waiting';
    return at > i ? 'done' : at === i ? 'active' : 'waiting';
  };
  const byFiles = run.uploadMode === 'single' || run.uploadMode === 'videos';
  const job = run.job;
  const lines: StageLine[] = [
    {
      label: 'plan',
      fraction: n('sourceFiles') > 0 ? (n('planned') + n('skipped')) / n('sourceFiles') : null,
      detail: `${formatCount(n('planned'))} files planned${n('skipped') ? `, ${formatCount(n('skipped'))} skipped` : ''}`,
      state: state('planning', n('planned') > 0),
    },
    {
      label: 'upload',
      fraction: ratio(n('bytesUploaded'), n('bytesTotal')) ?? ratio(n('filesUploaded'), n('planned')),
      detail:
        `${formatBytes(n('bytesUploaded'))} / ${formatBytes(n('bytesTotal'))}` +
        (byFiles || n('shardsTotal') === 0
          ? ` · ${formatCount(n('filesUploaded'))}/${formatCount(n('planned'))} files`
          : ` · ${formatCount(n('shardsUploaded'))}/${formatCount(n('shardsTotal'))} shards`),
      state: state('uploading', n('bytesUploaded') > 0 || n('filesUploaded') > 0),
    },
    {
      label: 'index',
      fraction: ratio(n('indexed'), n('expected')),
      detail: `${formatCount(n('indexed'))}/${formatCount(n('expected'))} items indexed`,
      state: state('verifying', n('indexed') > 0),
    },
    {
      label: 'job',
      fraction: job?.state === 'completed' ? 1 : (job?.progress ?? null),
      // The remote stage only when it says more than the state (`processing · processing` says nothing).
      detail: job
        ? `${job.state}${job.stage && job.stage !== job.state ? ` · ${job.stage}` : ''}${job.progress !== null ? ` ${Math.round(job.progress * 100)}%` : ''}`
        : run.status === 'starting'
          ? 'starting'
          : 'not started',
      // Starting and processing are one line for the user.
      state: run.status === 'starting' ? 'active' : state('processing', job !== undefined),
    },
    {
      label: 'download',
      fraction: ratio(n('downloadsDone'), n('downloadsTotal')),
      detail: `${formatCount(n('downloadsDone'))}/${formatCount(n('downloadsTotal'))} files · ${formatBytes(n('bytesDownloaded'))}`,
      state: state('exporting', n('downloadsDone') > 0),
    },
  ];
  // A failed run shows where it failed as failed, never with a check mark.
  const failedAt = run.status === 'failed' && run.failedStage ? LINE_OF_STAGE[run.failedStage] : undefined;
  return lines.map((l) => (l.label === failedAt ? { ...l, state: 'failed' } : l));
}

export interface Renderer {
  update(run: RunState): void;
  /** Draws the final state (once). */
  finish(run: RunState): void;
}

export interface RendererOptions {
  write: (text: string) => void;
  tty: boolean;
  columns?: number;
  now?: () => number;
  /** ANSI colours on the marks (a terminal without NO_COLOR). @defaultValue false */
  color?: boolean;
}

const MARK = { waiting: ' ', active: '›', done: '✓', failed: '✗' } as const;
/** SGR colour of each mark: cyan active, green done, red failed. */
const COLOR = { waiting: '', active: '36', done: '32', failed: '31' } as const;

/** The mark of a stage state, in colour when asked. */
export function stageMark(state: StageLine['state'], color = false): string {
  return color && COLOR[state] ? `\x1b[${COLOR[state]}m${MARK[state]}\x1b[0m` : MARK[state];
}

/**
 * Live progress: on a terminal, a block of bars redrawn in place; otherwise plain lines (a line per
 * status change, and the active stage at most every 5 s), so logs and CI output stay readable.
 */
export function createRenderer(options: RendererOptions): Renderer {
  const now = options.now ?? Date.now;
  const started = now();
  let drawn = 0;
  let lastStatus: RunStatus | undefined;
  let lastPlainAt = Number.NEGATIVE_INFINITY;
  let lastPlainDetail = '';
  let warningsSeen = 0;

  const elapsed = () => formatDuration(now() - started);
  const warnings = (run: RunState) => {
    const fresh = run.warnings.slice(warningsSeen);
    warningsSeen = run.warnings.length;
    return fresh;
  };

  const drawTty = (run: RunState) => {
    const width = Math.max(10, Math.min(30, (options.columns ?? 80) - 60));
    const lines = [
      `run ${run.runId}  ${run.status}  ${elapsed()}${run.attempt > 0 ? `  (attempt ${run.attempt + 1})` : ''}`,
      ...stageLines(run).map((s) => {
        const pct =
          s.fraction === null ? '   ' : `${String(Math.round(Math.min(1, s.fraction) * 100)).padStart(3)}%`;
        const detail = s.state === 'failed' ? `failed · ${s.detail}` : s.detail;
        return ` ${stageMark(s.state, options.color)} ${s.label.padEnd(8)} ${bar(s.state === 'done' ? 1 : s.fraction, width)} ${pct}  ${detail}`;
      }),
      ...[apiOutageLine(run.apiOutage, now())].filter((l) => l !== undefined).map((l) => ` ! ${l}`),
    ];
    let out = drawn > 0 ? `\x1b[${drawn}A` : '';
    for (const w of warnings(run)) out += `\r\x1b[2Kwarning: ${w}\n`;
    for (const line of lines) out += `\r\x1b[2K${line.slice(0, (options.columns ?? 200) - 1)}\n`;
    drawn = lines.length;
    options.write(out);
  };

  let lastOutage: string | undefined;
  const drawPlain = (run: RunState, force: boolean) => {
    for (const w of warnings(run)) options.write(`warning: ${w}\n`);
    const outage = apiOutageLine(run.apiOutage, now());
    if (outage && outage !== lastOutage) options.write(`${elapsed().padStart(6)}  ${outage}\n`);
    lastOutage = outage;
    if (run.status !== lastStatus) {
      options.write(`${elapsed().padStart(6)}  ${run.status}\n`);
      lastStatus = run.status;
    }
    const active = stageLines(run).find((s) => s.state === 'active');
    if (!active) return;
    const detail = `${active.label}: ${active.detail}`;
    if (detail !== lastPlainDetail && (force || now() - lastPlainAt >= 5_000)) {
      options.write(`${elapsed().padStart(6)}  ${detail}\n`);
      lastPlainDetail = detail;
      lastPlainAt = now();
    }
  };

  let finished = false;
  return {
    update(run) {
      if (options.tty) drawTty(run);
      else drawPlain(run, false);
    },
    finish(run) {
      if (finished) return;
      finished = true;
      if (options.tty) drawTty(run);
      else {
        drawPlain(run, true);
      }
    },
  };
}
