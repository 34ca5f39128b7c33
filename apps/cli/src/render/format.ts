/** Small formatting helpers for terminal output. */
import { formatDuration as sharedFormatDuration } from '@rfbatch/shared';

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 1024) return `${Math.max(0, Math.round(bytes || 0))} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}

export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** `59s`, `1h02m`, `2d03h`: the shared formatDuration in the terminal's compact style. */
export function formatDuration(ms: number): string {
  return sharedFormatDuration(ms, 'compact');
}

/** A fixed-width bar: `██████░░░░`. `fraction` null draws an empty bar. */
export function bar(fraction: number | null, width: number): string {
  const f = fraction === null || !Number.isFinite(fraction) ? 0 : Math.min(1, Math.max(0, fraction));
  const full = Math.round(f * width);
  return '█'.repeat(full) + '░'.repeat(width - full);
}

/** Left-aligned table with a header row; columns sized to their widest cell. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** "3h12m left", "expired 2h ago". */
export function timeLeft(seconds: number): string {
  return seconds >= 0
    ? `${formatDuration(seconds * 1000)} left`
    : `expired ${formatDuration(-seconds * 1000)} ago`;
}
