/**
 * A worker process for tests: runs the services named in RFBATCH_STACK_SERVICES (ingest, jobs,
 * export) through the one process entry (runServices, as `rfbatch workers --only …` does), with the
 * options in RFBATCH_STACK_OPTIONS (JSON) over the environment's, prints `rfbatch-stack-ready`, and
 * runs until a signal. Started by `Stack.spawnWorkers`.
 */
import { exportService } from '@rfbatch/export';
import { ingestService } from '@rfbatch/ingest';
import { jobsService } from '@rfbatch/jobs';
import { runServices, type ServiceDefinition } from '@rfbatch/shared';

const known: Record<string, ServiceDefinition> = {
  ingest: ingestService,
  jobs: jobsService,
  export: exportService,
};
const services = (process.env.RFBATCH_STACK_SERVICES ?? '')
  .split(',')
  .filter(Boolean)
  .map((name) => {
    const service = known[name];
    if (!service) throw new Error(`unknown service "${name}"`);
    return service;
  });

await runServices(services, {
  overrides: JSON.parse(process.env.RFBATCH_STACK_OPTIONS ?? '{}') as Record<string, object>,
  deadlineMs: 10_000,
  onStarted: () => process.stdout.write('rfbatch-stack-ready\n'),
});
