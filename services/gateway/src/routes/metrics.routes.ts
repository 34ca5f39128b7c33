import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import {
  HISTOGRAM_BUCKETS,
  MetricName,
  QUEUE_NAMES,
  RunStatus,
  histogramSeries,
  readMetrics,
  type HistogramName,
  type MetricSample,
  type ServiceContext,
} from '@rfbatch/shared';
import { workersByQueue } from '@rfbatch/run-control';
import { registerBullmqSeries } from './bullmq-metrics.js';

/** How many recent runs `rfbatch_runs` looks at (the run index can be long). */
const RUNS_SCANNED = 1_000;

/** Label names of the shared counters (packages/shared metrics.ts); unknown labels are dropped. */
const SHARED_LABELS: Record<string, string[]> = {
  [MetricName.bytesUploaded]: [],
  [MetricName.bytesDownloaded]: [],
  [MetricName.apiRequests]: ['endpoint', 'status'],
  [MetricName.retries]: ['queue'],
  [MetricName.rateLimitWaits]: [],
  [MetricName.runs]: ['outcome'],
  [MetricName.webhooks]: ['action'],
};

/** Label names of the shared histograms (`le` apart). */
const HISTOGRAM_LABELS: Record<HistogramName, string[]> = {
  [MetricName.stageDuration]: ['stage'],
  [MetricName.jobDuration]: ['queue', 'job'],
  [MetricName.apiRequestDuration]: ['endpoint', 'status'],
};

/**
 * The Prometheus registry of one gateway: BullMQ's own series per queue (bullmq-metrics.ts), live
 * workers per queue, runs per status, the counters and duration histograms every rfbatch process adds
 * to in Redis, and the gateway's own process metrics. Everything is read at scrape time; nothing is
 * kept between scrapes.
 */
export function createRegistry(ctx: ServiceContext): Registry {
  const registry = new Registry();
  const { queues, connection, store, config } = ctx;
  collectDefaultMetrics({ register: registry, prefix: 'rfbatch_gateway_' });

  registerBullmqSeries(registry, queues, config.redis.prefix);

  new Gauge({
    name: 'rfbatch_workers',
    help: 'Worker connections attached to each queue right now',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      this.reset();
      const seen = await workersByQueue(queues);
      for (const name of QUEUE_NAMES) this.set({ queue: name }, seen[name].count);
    },
  });

  new Gauge({
    name: 'rfbatch_runs',
    help: `Runs per status, over the ${RUNS_SCANNED} most recent runs`,
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      this.reset();
      const ids = await store.list(RUNS_SCANNED);
      const pipeline = connection.pipeline();
      for (const id of ids) pipeline.hget(store.key(id), 'status');
      const statuses = ((await pipeline.exec()) ?? []).map(([, status]) => status);
      for (const status of RunStatus.options)
        this.set({ status }, statuses.filter((s) => s === status).length);
    },
  });

  // One read of the Redis hash serves every shared counter of a scrape: prom-client starts all collects
  // at once, so they share the read in flight; the next scrape reads again.
  let inFlight: Promise<MetricSample[]> | undefined;
  const sharedSamples = () =>
    (inFlight ??= readMetrics(connection, config.redis.prefix).finally(() => {
      inFlight = undefined;
    }));
  for (const [name, labelNames] of Object.entries(SHARED_LABELS)) {
    new Counter({
      name: `rfbatch_${name}`,
      help: `rfbatch ${name.replaceAll('_', ' ')} (all processes)`,
      labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        for (const sample of await sharedSamples()) {
          if (sample.name !== name) continue;
          this.inc(Object.fromEntries(labelNames.map((l) => [l, sample.labels[l] ?? ''])), sample.value);
        }
      },
    });
  }
  for (const [name, labelNames] of Object.entries(HISTOGRAM_LABELS) as Array<[HistogramName, string[]]>) {
    const help = `rfbatch ${name.replaceAll('_', ' ')} (all processes; buckets ${HISTOGRAM_BUCKETS[name].join(', ')})`;
    registry.registerMetric({
      name: `rfbatch_${name}`,
      help,
      type: 'histogram',
      async get() {
        const values = histogramSeries(await sharedSamples(), name, labelNames).map((v) => ({
          ...v,
          metricName: `rfbatch_${v.metricName}`,
        }));
        return { name: `rfbatch_${name}`, help, type: 'histogram', aggregator: 'sum', values };
      },
      reset() {},
    } as unknown as Parameters<Registry['registerMetric']>[0]);
  }
  return registry;
}

export function metricsRoutes(app: FastifyInstance, registry: Registry): void {
  app.get('/metrics', async (_request, reply) => {
    const body = await registry.metrics();
    return reply.header('content-type', registry.contentType).send(body);
  });
}
