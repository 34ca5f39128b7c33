/**
 * `/metrics` and `/healthz` of one worker process, on an optional port (RFBATCH_METRICS_PORT): what
 * the gateway's /metrics cannot see from Redis — this process's RSS, heap, event-loop lag and the
 * jobs its workers are running now. Prometheus scrapes each process; docker-compose's health checks
 * call /healthz (200 while every worker runs, 503 once one stopped).
 */
import { createServer, type Server } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Worker } from 'bullmq';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from '../logger.js';

export interface ProcessMetricsOptions {
  host: string;
  /** 0 = any free port (the log line and `url` say which). */
  port: number;
  /** The services of this process, e.g. `ingest`. */
  services: readonly string[];
  workers: () => readonly Worker[];
  logger: Logger;
}

export interface ProcessMetricsServer {
  url: string;
  close(): Promise<void>;
}

/** Jobs a worker is processing right now (BullMQ's lock manager tracks each one until it settles). */
function activeJobs(worker: Worker): number {
  const tracker = (worker as unknown as { lockManager?: { getActiveJobCount?(): number } }).lockManager;
  return tracker?.getActiveJobCount?.() ?? 0;
}

/** What /healthz answers: ok while every worker runs. */
function processHealth(
  services: readonly string[],
  workers: readonly Worker[],
  lag: { p99Ms: number; maxMs: number },
) {
  const queues: Record<string, { running: boolean; activeJobs: number; concurrency: number }> = {};
  for (const w of workers) {
    const q = (queues[w.name] ??= { running: true, activeJobs: 0, concurrency: 0 });
    q.running &&= w.isRunning();
    q.activeJobs += activeJobs(w);
    q.concurrency += w.concurrency;
  }
  return {
    ok: workers.every((w) => w.isRunning()),
    pid: process.pid,
    services: [...services],
    uptimeSeconds: Math.round(process.uptime()),
    rssBytes: process.memoryUsage.rss(),
    eventLoopLagMs: lag,
    queues,
  };
}

export async function serveProcessMetrics(options: ProcessMetricsOptions): Promise<ProcessMetricsServer> {
  const registry = new Registry();
  registry.setDefaultLabels({ service: options.services.join(',') });
  // process_resident_memory_bytes, nodejs_eventloop_lag_*, heap, GC, handles: prefixed rfbatch_.
  collectDefaultMetrics({ register: registry, prefix: 'rfbatch_' });
  new Gauge({
    name: 'rfbatch_worker_active_jobs',
    help: 'Jobs this process is running now, per queue',
    labelNames: ['queue'],
    registers: [registry],
    collect() {
      this.reset();
      for (const w of options.workers()) this.inc({ queue: w.name }, activeJobs(w));
    },
  });
  new Gauge({
    name: 'rfbatch_worker_concurrency',
    help: 'Jobs this process runs at once at most, per queue',
    labelNames: ['queue'],
    registers: [registry],
    collect() {
      this.reset();
      for (const w of options.workers()) this.inc({ queue: w.name }, w.concurrency);
    },
  });

  // Event-loop lag over the last ~30 s for /healthz (Prometheus gets prom-client's own series).
  const delay = monitorEventLoopDelay({ resolution: 20 });
  delay.enable();
  const window = setInterval(() => delay.reset(), 30_000);
  window.unref();
  const lag = () => ({
    p99Ms: Math.round(delay.percentile(99) / 1e4) / 100,
    maxMs: Math.round(delay.max / 1e4) / 100,
  });

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    void (async () => {
      if (req.method !== 'GET') return void res.writeHead(405).end();
      if (path === '/metrics') {
        const body = await registry.metrics();
        return void res.writeHead(200, { 'content-type': registry.contentType }).end(body);
      }
      if (path === '/healthz') {
        const health = processHealth(options.services, options.workers(), lag());
        return void res
          .writeHead(health.ok ? 200 : 503, { 'content-type': 'application/json' })
          .end(JSON.stringify(health));
      }
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: /metrics and /healthz only\n');
    })().catch((error: unknown) => {
      options.logger.warn({ err: error }, 'process metrics: could not answer');
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `http://${host}:${port}`;
  options.logger.info({ url: `${url}/metrics` }, 'process metrics and health served');
  return {
    url,
    async close() {
      clearInterval(window);
      delay.disable();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
