/**
 * Durations for people, in the styles rfbatch shows them. One function, so each style is written once:
 * the callers' texts differ on purpose (a sentence reads `12 min`, a CLI column `12m00s`).
 */

/**
 * - `words`: messages and errors, rounded — `9.5 s`, `95 s`, `12 min`, `2.5 h`
 * - `compact`: CLI columns and progress lines — `59s`, `12m05s`, `1h02m`, `2d03h`
 * - `hours-minutes`: time left before an expiry, never rounded up — `45 min`, `3 h 12 min`
 * - `precise`: short waits — `250 ms`, `1.5 s`, `300 s`
 */
export type DurationStyle = 'words' | 'compact' | 'hours-minutes' | 'precise';

/**
 * `ms` as text in the given style.
 * @param style - see {@link DurationStyle}. @defaultValue `'words'`
 */
export function formatDuration(ms: number, style: DurationStyle = 'words'): string {
  switch (style) {
    case 'words':
      return words(ms);
    case 'compact':
      return compact(ms);
    case 'hours-minutes':
      return hoursMinutes(ms);
    case 'precise':
      return ms >= 1000 ? `${Number((ms / 1000).toFixed(1))} s` : `${Math.round(ms)} ms`;
  }
}

function words(ms: number): string {
  const s = ms / 1000;
  if (s < 10) return `${Math.round(s * 10) / 10} s`;
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round((s / 3600) * 10) / 10} h`;
}

function compact(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`;
}

function hoursMinutes(ms: number): string {
  // Floored: a warning never promises more time than is left.
  const h = Math.floor(ms / 3600_000);
  const m = Math.floor((ms % 3600_000) / 60_000);
  return h > 0 ? `${h} h ${m} min` : `${m} min`;
}
