/**
 * A worker process for tests: starts the services named in RFBATCH_STACK_SERVICES (ingest, jobs,
 * export) with the options in RFBATCH_STACK_OPTIONS (JSON) against the stack the environment names,
 * prints `rfbatch-stack-ready`, and runs until a signal. Started by `Stack.spawnWorkers`.
 */
import { startExport } from '@rfbatch/export';
import { startIngest } from '@rfbatch/ingest';
import { startJobs } from '@rfbatch/jobs';
import {
  closeServiceContext,
  createLogger,
  createServiceContext,
  loadConfig,
  runUntilSignal,
  type RunningService,
} from '@rfbatch/shared';

const config = loadConfig();
const logger = createLogger({ level: config.logLevel, name: 'stack-worker' });
const names = (process.env.RFBATCH_STACK_SERVICES ?? '').split(',').filter(Boolean);
const options = JSON.parse(process.env.RFBATCH_STACK_OPTIONS ?? '{}') as Record<
  string,
  Record<string, unknown>
>;

await runUntilSignal(
  async () => {
    const ctx = createServiceContext(config, logger);
    const services: RunningService[] = [];
    for (const name of names) {
      if (name === 'ingest') services.push(await startIngest(ctx, options.ingest));
      else if (name === 'jobs') services.push(await startJobs(ctx, options.jobs));
      else if (name === 'export') services.push(await startExport(ctx, options.export));
      else throw new Error(`unknown service "${name}"`);
    }
    process.stdout.write('rfbatch-stack-ready\n');
    return {
      close: async () => {
        for (const s of services.reverse()) await s.close();
        await closeServiceContext(ctx);
      },
    };
  },
  { logger, deadlineMs: 10_000 },
);
