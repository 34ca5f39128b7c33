/** Small statistics for benchmarks: medians of repetitions and the ratios between two sides. */

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function round(x: number, digits = 2): number {
  return Number.isFinite(x) ? Number(x.toFixed(digits)) : x;
}

/** Every repetition of one measurement plus its median, min and max (seconds, bytes, …). */
export interface Summary {
  values: number[];
  median: number;
  min: number;
  max: number;
}

export function summarize(values: readonly number[], digits = 3): Summary {
  return {
    values: values.map((v) => round(v, digits)),
    median: round(median(values), digits),
    min: round(Math.min(...values), digits),
    max: round(Math.max(...values), digits),
  };
}

/**
 * Speed ratio of rfbatch against a baseline from their median times: baseline / rfbatch. Above 1
 * rfbatch is faster; 0.8 means rfbatch reaches 80 % of the baseline's throughput.
 */
export function speedRatio(baselineSeconds: readonly number[], rfbatchSeconds: readonly number[]): number {
  return round(median(baselineSeconds) / median(rfbatchSeconds), 3);
}

/** A goal of a benchmark, checked against the measured value. */
export interface Goal {
  name: string;
  target: string;
  value: number;
  met: boolean;
}

export function goal(name: string, value: number, op: '>=' | '<=', threshold: number, unit = ''): Goal {
  const met = op === '>=' ? value >= threshold : value <= threshold;
  return { name, target: `${op} ${threshold}${unit}`, value: round(value, 3), met };
}
