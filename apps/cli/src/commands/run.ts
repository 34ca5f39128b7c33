import type { Command } from 'commander';
import { hasRedisServerBinary, spawnRedis, type RedisHandle } from '@rfbatch/shared';
import type { App } from '../app.js';
import {
  cliConfig,
  cliLogger,
  openServices,
  openStore,
  type ServicesHandle,
  type StoreHandle,
} from '../cli-context.js';
import { ExitCode } from '../exit-codes.js';
import { followRun, reportOutcome, stderrRenderer } from '../follow.js';
import { note } from '../io.js';
import { CliError } from '../exit-codes.js';
import { jobIdArg, withClient } from '../remote-client.js';
import type { RunSpec, RunState } from '@rfbatch/shared';
import { reportPreflight, runPreflight } from './preflight.js';
import { addRunOptions, specFromFlags, type RunFlags } from '../run-options.js';
import {
  SERVICE_NAMES,
  servicesFor,
  startWorkers,
  type RunningWorkers,
  type ServiceName,
} from '../workers.js';
import { submitRun, submitPolicy, queuesWithoutWorkers, workersByQueue } from '@rfbatch/run-control';

interface RunCommandFlags extends RunFlags {
  local?: boolean;
  json?: boolean;
  dryRun?: boolean;
  /** Adopt this job, started elsewhere (the official CLI, the API): follow it, export it. */
  job?: string;
}

export function registerRun(program: Command, app: App): void {
  addRunOptions(
    program
      .command('run')
      .summary('submit a run and follow it to the end with live progress')
      .description(
        'Stages <source> (a folder, a .jsonl references file or its https URL, or a bucket: s3://bucket/prefix/, gs://…, az://container/prefix/ with an optional glob), runs the Workflow over it as a batch job, ' +
          'downloads the results and joins them to the source files. Workers run in this process when none is running ' +
          '(or with --local). Ctrl-C detaches: the run goes on where workers run (with --local it pauses and says how to resume).',
      )
      .argument('[source]', 'folder of images/videos, a .jsonl references file, or an https URL of one'),
  )
    .option(
      '--job <id>',
      'adopt a job started elsewhere (e.g. by `inference rf-cloud`): follow it, export it, write results keyed by remote name',
    )
    .option('--local', 'run every worker in this process (default when no worker is running)')
    .option('--json', 'print only the final summary.json on stdout (with --dry-run: the preflight report)')
    .option(
      '--dry-run',
      'check the run and print its plan (as `rfbatch preflight`); upload nothing, start nothing',
    )
    .action(async (source: string | undefined, flags: RunCommandFlags) => {
      const { io } = app;
      if (flags.dryRun)
        return reportPreflight(app, await runPreflight(app, source ?? '', flags), flags.json === true);
      const warn = (message: string) => note(io, `warning: ${message}`);
      const spec =
        flags.job !== undefined
          ? await adoptedJobSpec(app, source, flags, warn)
          : specFromFlags(source, flags, io.cwd, { warn });
      await executeRun(app, spec, flags);
    });
}

/** The RunSpec of `run --job <id>`: the job's batch and Workflow, read from its definition. */
async function adoptedJobSpec(
  app: App,
  source: string | undefined,
  flags: RunCommandFlags,
  warn: (message: string) => void,
): Promise<RunSpec & { runId: string }> {
  if (source !== undefined)
    throw new CliError(
      ExitCode.usage,
      `--job adopts a job that already runs: give no <source> ("${source}")`,
    );
  const jobId = jobIdArg(flags.job ?? '');
  const definition = await withClient(app, async (c) => (await c.getJob(jobId)).job?.jobDefinition);
  const input = definition?.jobInput as { batchId?: unknown; partName?: unknown } | undefined;
  const processing = definition?.processingSpecification as { workflowId?: unknown } | undefined;
  if (typeof input?.batchId !== 'string')
    throw new CliError(
      ExitCode.usage,
      `job "${jobId}" names no staging batch in its definition (jobInput.batchId): only Workflow jobs on a staged batch can be adopted`,
    );
  const spec = specFromFlags(
    undefined,
    {
      ...flags,
      batch: input.batchId,
      ...(typeof input.partName === 'string' ? { part: input.partName } : {}),
      workflow:
        flags.workflow ?? (typeof processing?.workflowId === 'string' ? processing.workflowId : 'unknown'),
      videos: flags.videos ?? String(definition?.type).includes('video'),
      jobId,
    },
    app.io.cwd,
    { warn },
  );
  return { ...spec, mode: 'adopt-job' };
}

/** Submits `spec` (workers in this process when none runs), follows it and reports its end. */
export async function executeRun(
  app: App,
  spec: RunSpec & { runId: string },
  flags: { local?: boolean; json?: boolean },
  report: (handle: StoreHandle, state: RunState) => Promise<void> = (handle, state) =>
    reportOutcome(app.io, handle.store, state, { json: flags.json === true }),
): Promise<void> {
  const { io } = app;
  const config = cliConfig(io);
  const logger = cliLogger(io, app.verbose());

  let privateRedis: RedisHandle | undefined;
  let handle: StoreHandle | undefined;
  let services: ServicesHandle | undefined;
  let workers: RunningWorkers | undefined;
  try {
    try {
      handle = await openStore(config);
    } catch (error) {
      // Nothing configured and nothing on 6379: a private Redis keeps a one-off local run possible.
      if (io.env.REDIS_URL || flags.local === false || !hasRedisServerBinary()) throw error;
      privateRedis = await spawnRedis();
      config.redis.url = privateRedis.url;
      note(
        io,
        `no Redis at 127.0.0.1:6379: using a private redis-server for this run (its state ends with this command)`,
      );
      handle = await openStore(config);
    }

    let toStart: ServiceName[] = [];
    if (flags.local || privateRedis) toStart = SERVICE_NAMES;
    else toStart = servicesFor(queuesWithoutWorkers(await workersByQueue(handle.queues)));
    if (toStart.length) {
      // Local workers call the API: fail now, before anything is submitted, when there is no key.
      const withKey = cliConfig(io, { needApiKey: true });
      withKey.redis.url = config.redis.url;
      services = await openServices(withKey, logger);
      workers = await startWorkers(services.ctx, {
        only: toStart,
        env: io.env,
        rateLimitListeners: services.rateLimitListeners,
      });
      if (!flags.local && !privateRedis)
        note(
          io,
          `no worker is running for ${toStart.join(', ')}: running ${toStart.length === 3 ? 'them' : toStart.join(', ')} in this process`,
        );
    }

    const { runId, created } = await submitRun(handle.queues, handle.store, spec, {
      ...submitPolicy(handle.config),
      cwd: io.cwd,
    });
    if (!created) note(io, `run ${runId} already exists: following it`);
    else note(io, `run ${runId} submitted (results go to ${spec.output.dir})`);

    const { state, detached } = await followRun(handle.store, runId, {
      renderer: stderrRenderer(io),
      signal: io.signal,
    });
    if (detached) {
      if (workers) {
        note(io, `stopping the local workers (running jobs finish or are handed back)…`);
        await workers.close();
        workers = undefined;
        note(
          io,
          `run ${runId} is paused at "${state.status}". Resume it with: rfbatch watch ${runId} --local`,
        );
      } else {
        note(io, `detached; run ${runId} goes on in the workers. Follow it with: rfbatch watch ${runId}`);
      }
      app.exitCode = ExitCode.interrupted;
      return;
    }
    await report(handle, state);
  } finally {
    await workers?.close();
    await services?.close();
    await handle?.close();
    await privateRedis?.stop();
  }
}
