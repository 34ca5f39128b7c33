import type { Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { HISTOGRAM_BUCKETS, type HistogramName } from './metrics/histograms.js';

export { HISTOGRAM_BUCKETS, histogramSeries, type HistogramName } from './metrics/histograms.js';

/**
 * Counters that any rfbatch process can add to and the gateway's `GET /metrics` exposes. They live in
 * one Redis hash (`<prefix>:metrics`) so the numbers of every worker process on every host add up,
 * whichever process Prometheus scrapes. Increments are buffered in memory and flushed about once a
 * second (one pipelined HINCRBYFLOAT per changed series), so recording costs no Redis round trip.
 */
export const MetricName = {
  /** Bytes sent to signed upload URLs and the single-image endpoint. */
  bytesUploaded: 'bytes_uploaded_total',
  /** Bytes downloaded from export URLs. */
  bytesDownloaded: 'bytes_downloaded_total',
  /** Roboflow API requests, labels `endpoint` (template, no ids) and `status` (0 = no answer). */
  apiRequests: 'api_requests_total',
  /** Stage jobs that failed an attempt and will be retried, label `queue`. */
  retries: 'job_retries_total',
  /** Times the API asked us to slow down (429 / Retry-After). */
  rateLimitWaits: 'rate_limit_waits_total',
  /** Runs that ended, label `outcome` (completed, failed, cancelled). */
  runs: 'runs_total',
  /** Seconds a run spent per stage (a histogram, see HISTOGRAM_BUCKETS), label `stage`. */
  stageDuration: 'stage_duration_seconds',
  /** Seconds one BullMQ job took to process (a histogram), labels `queue` and `job`. */
  jobDuration: 'job_duration_seconds',
  /** Seconds of one Roboflow API request (a histogram), labels `endpoint` and `status`. */
  apiRequestDuration: 'api_request_duration_seconds',
  /** Webhook notifications received, label `action` (promoted, ignored, refused). */
  webhooks: 'webhooks_total',
} as const;
export type MetricName = (typeof MetricName)[keyof typeof MetricName];

export type MetricLabels = Record<string, string | number>;

export interface Metrics {
  /** Adds `by` (default 1) to a counter. */
  inc(name: MetricName, labels?: MetricLabels, by?: number): void;
  /**
   * Records one observation of a histogram (a duration in seconds): `<name>_sum`, `<name>_count` and
   * every cumulative `<name>_bucket{le}` it falls in (HISTOGRAM_BUCKETS).
   */
  observe(name: HistogramName, labels: MetricLabels, value: number): void;
  /** Writes buffered increments to Redis now. */
  flush(): Promise<void>;
  /** Flushes and stops the timer. */
  close(): Promise<void>;
}

/** A Metrics that records nothing (the default when a process does not care). */
export const noopMetrics: Metrics = {
  inc() {},
  observe() {},
  flush: async () => {},
  close: async () => {},
};

export function metricsKey(prefix: string): string {
  return `${prefix}:metrics`;
}

/** `name|k=v,k=v` with label names sorted, so one series always maps to one hash field. */
function field(name: string, labels: MetricLabels = {}): string {
  const pairs = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${String(labels[k]).replace(/[,|=]/g, '_')}`);
  return `${name}|${pairs.join(',')}`;
}

export interface RedisMetricsOptions {
  /** @defaultValue 1_000 */
  flushIntervalMs?: number;
}

export function createRedisMetrics(redis: Redis, prefix: string, options: RedisMetricsOptions = {}): Metrics {
  const pending = new Map<string, number>();
  const key = metricsKey(prefix);
  let flushing: Promise<void> = Promise.resolve();
  const add = (f: string, by: number) => pending.set(f, (pending.get(f) ?? 0) + by);

  const flush = async (): Promise<void> => {
    if (pending.size === 0) return flushing;
    const batch = [...pending];
    pending.clear();
    const pipeline = redis.pipeline();
    for (const [f, by] of batch) pipeline.hincrbyfloat(key, f, by);
    // Metrics must never break the work they measure: a lost flush only loses numbers.
    flushing = flushing.then(() =>
      pipeline.exec().then(
        () => undefined,
        () => undefined,
      ),
    );
    return flushing;
  };
  const timer = setInterval(() => void flush(), options.flushIntervalMs ?? 1_000);
  timer.unref();

  return {
    inc(name, labels, by = 1) {
      add(field(name, labels), by);
    },
    observe(name, labels, value) {
      add(field(`${name}_sum`, labels), value);
      add(field(`${name}_count`, labels), 1);
      for (const le of HISTOGRAM_BUCKETS[name])
        if (value <= le) add(field(`${name}_bucket`, { ...labels, le }), 1);
    },
    flush,
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}

export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Every recorded series, for the gateway's /metrics. */
export async function readMetrics(redis: Redis, prefix: string): Promise<MetricSample[]> {
  const hash = await redis.hgetall(metricsKey(prefix));
  return Object.entries(hash).map(([f, v]) => {
    const [name = '', rest = ''] = f.split('|');
    const labels: Record<string, string> = {};
    for (const pair of rest ? rest.split(',') : []) {
      const [k = '', val = ''] = pair.split('=');
      labels[k] = val;
    }
    return { name, labels, value: Number(v) };
  });
}

/**
 * Retries and job durations from a worker's own events, so no processor has to count them. A failed
 * attempt that BullMQ will try again counts as a retry; a run's end is counted by the RunStore.
 */
export function instrumentWorker(metrics: Metrics, worker: Worker): void {
  worker.on('failed', (job: Job | undefined) => {
    // BullMQ sets finishedOn only when the job failed for good (no attempt left, or unrecoverable).
    if (job && !job.finishedOn) metrics.inc(MetricName.retries, { queue: worker.name });
  });
  worker.on('completed', (job: Job) => {
    if (job.processedOn && job.finishedOn) {
      metrics.observe(
        MetricName.jobDuration,
        { queue: worker.name, job: job.name },
        (job.finishedOn - job.processedOn) / 1000,
      );
    }
  });
}
