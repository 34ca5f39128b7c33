/**
 * The duration histograms of the shared metrics: their bucket bounds, and how the gateway turns the
 * stored series (cumulative `_bucket{le}`, `_sum`, `_count` in the Redis hash, added to by every
 * process) back into a Prometheus histogram, so p50/p95 can be read with histogram_quantile.
 */

/** Upper bounds in seconds of each histogram's buckets (`+Inf` is implied: the `_count`). */
export const HISTOGRAM_BUCKETS = {
  /** A stage of a run: seconds to a day. */
  stage_duration_seconds: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14_400, 43_200, 86_400],
  /** One BullMQ job's processing (a delayed wait ends an attempt, so attempts stay short). */
  job_duration_seconds: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
  /** One Roboflow API request, retries apart. */
  api_request_duration_seconds: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
} as const satisfies Record<string, readonly number[]>;
export type HistogramName = keyof typeof HISTOGRAM_BUCKETS;

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** One line of a histogram in prom-client's form (`metricName` is `<name>_bucket`, `_sum` or `_count`). */
export interface HistogramValue {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

/**
 * The Prometheus lines of histogram `name` from the stored samples: per label set (only `labelNames`
 * kept), every bucket in order (0 where none was recorded), `+Inf`, `_sum` and `_count`.
 */
export function histogramSeries(
  samples: readonly Sample[],
  name: HistogramName,
  labelNames: readonly string[],
): HistogramValue[] {
  const series = new Map<
    string,
    { labels: Record<string, string>; buckets: Map<string, number>; sum: number; count: number }
  >();
  const entry = (labels: Record<string, string>) => {
    const own = Object.fromEntries(labelNames.map((l) => [l, labels[l] ?? '']));
    const key = JSON.stringify(own);
    let found = series.get(key);
    if (!found) series.set(key, (found = { labels: own, buckets: new Map(), sum: 0, count: 0 }));
    return found;
  };
  for (const s of samples) {
    if (s.name === `${name}_bucket`) {
      const e = entry(s.labels);
      const le = s.labels.le ?? '';
      e.buckets.set(le, (e.buckets.get(le) ?? 0) + s.value);
    } else if (s.name === `${name}_sum`) entry(s.labels).sum += s.value;
    else if (s.name === `${name}_count`) entry(s.labels).count += s.value;
  }
  const out: HistogramValue[] = [];
  for (const { labels, buckets, sum, count } of series.values()) {
    for (const le of HISTOGRAM_BUCKETS[name])
      out.push({
        metricName: `${name}_bucket`,
        labels: { ...labels, le },
        value: buckets.get(String(le)) ?? 0,
      });
    out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: count });
    out.push({ metricName: `${name}_sum`, labels, value: sum });
    out.push({ metricName: `${name}_count`, labels, value: count });
  }
  return out;
}
