/**
 * BullMQ's own Prometheus series (`Queue.exportPrometheusMetrics`: `bullmq_job_count{queue,state}`,
 * `bullmq_job_completed_total`, `bullmq_job_failed_total`), the names existing BullMQ dashboards
 * use, for every rfbatch queue in one exposition: each queue's text is parsed and merged, so each
 * metric has one HELP/TYPE and the lines of all queues, with the `prefix` label naming the
 * deployment (its Redis key prefix).
 */
import type { Registry } from 'prom-client';
import { QUEUE_NAMES, type Queues } from '@rfbatch/shared';

interface Family {
  help: string;
  type: string;
  values: Array<{ labels: Record<string, string>; value: number }>;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** The families of Prometheus text (HELP, TYPE and samples), added to `into`. */
function parseExposition(text: string, into = new Map<string, Family>()): Map<string, Family> {
  const family = (name: string) => {
    let f = into.get(name);
    if (!f) into.set(name, (f = { help: name, type: 'untyped', values: [] }));
    return f;
  };
  for (const line of text.split('\n')) {
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      const f = family(meta[2] ?? '');
      if (meta[1] === 'HELP') f.help = meta[3] ?? '';
      else f.type = meta[3] ?? 'untyped';
      continue;
    }
    const sample = LINE.exec(line.trim());
    if (!sample) continue;
    const labels: Record<string, string> = {};
    for (const [, k = '', v = ''] of (sample[2] ?? '').matchAll(LABEL))
      labels[k] = v.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    family(sample[1] ?? '').values.push({ labels, value: Number(sample[3]) });
  }
  return into;
}

/** Registers BullMQ's series of every queue in `registry`, read at each scrape. */
export function registerBullmqSeries(registry: Registry, queues: Queues, prefix: string): void {
  let inFlight: Promise<Map<string, Family>> | undefined;
  const read = () =>
    (inFlight ??= (async () => {
      const families = new Map<string, Family>();
      for (const name of QUEUE_NAMES)
        parseExposition(await queues[name].exportPrometheusMetrics({ prefix }), families);
      return families;
    })().finally(() => {
      inFlight = undefined;
    }));
  const names = [
    ['bullmq_job_count', 'gauge', 'Number of jobs in the queue by state'],
    ['bullmq_job_completed_total', 'counter', 'Total number of completed jobs'],
    ['bullmq_job_failed_total', 'counter', 'Total number of failed jobs'],
  ] as const;
  for (const [name, type, help] of names) {
    registry.registerMetric({
      name,
      help,
      type,
      async get() {
        const f = (await read()).get(name);
        return { name, help: f?.help ?? help, type, aggregator: 'sum', values: f?.values ?? [] };
      },
      reset() {},
    } as unknown as Parameters<Registry['registerMetric']>[0]);
  }
}
