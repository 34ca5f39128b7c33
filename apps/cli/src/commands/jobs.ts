import { Option, type Command } from 'commander';
import { LogSeverity, parseOrThrow, redactDeep } from '@rfbatch/shared';
import type { App } from '../app.js';
import { printJson, printLine } from '../io.js';
import { table } from '../render/format.js';
import { writeJsonl } from '../jsonl-file.js';
import { addListOptions, listBounds, takeUpTo, type ListFlags } from '../list-options.js';
import { confirm, jobIdArg, withClient } from '../remote-client.js';
import { registerTrtCompile } from './trt-compile.js';
import { toRestartOverrides } from '@rfbatch/run-control';
import { RetryOverridesSchema } from '@rfbatch/shared';

const pct = (p: number | null | undefined) =>
  p === null || p === undefined ? '-' : `${Math.round(p * 100)}%`;
const text = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

export function registerJobs(program: Command, app: App): void {
  const jobs = program
    .command('jobs')
    .summary('inspect and control batch jobs (as `inference rf-cloud batch-processing` does)');

  addListOptions(jobs.command('ls').summary('list the jobs of the workspace'), 50)
    .option('--json', 'print JSON')
    .action(async (flags: ListFlags & { json?: boolean }) => {
      const { limit, page } = listBounds(flags, 50);
      const list = await withClient(app, (c) => takeUpTo(c.listJobs(page), limit));
      if (flags.json) return printJson(app.io, { jobs: redactDeep(list) });
      printLine(
        app.io,
        table(
          ['JOB', 'NAME', 'STAGE', 'STATE', 'CREATED'],
          list.map((j) => [
            j.jobId,
            j.name,
            j.currentStage ?? '-',
            j.isTerminal ? (j.error ? 'failed' : 'completed') : 'running',
            j.createdAt,
          ]),
        ),
      );
    });

  jobs
    .command('show')
    .summary('show one job: state, stage, progress, last notification')
    .argument('<jobId>', 'job id')
    .option('--json', 'print JSON')
    .action(async (jobId: string, flags: { json?: boolean }) => {
      const id = jobIdArg(jobId);
      const { job, state } = await withClient(app, (c) => c.getJob(id));
      if (flags.json) return printJson(app.io, redactDeep({ jobId: id, state, job }));
      printLine(app.io, `job ${id}${job ? `  (${job.name})` : ''}  ${state.state}`);
      printLine(app.io, `  stage     ${state.stage ?? '-'} · progress ${pct(state.progress)}`);
      if (job) {
        printLine(app.io, `  stages    ${(job.plannedStages ?? []).join(' → ') || '-'}`);
        printLine(app.io, `  created   ${job.createdAt} · updated ${job.lastUpdate}`);
        if (job.lastNotification) printLine(app.io, `  last      ${text(redactDeep(job.lastNotification))}`);
        if (job.restartParametersOverride.length)
          printLine(app.io, `  restarts  ${job.restartParametersOverride.length}`);
      }
    });

  jobs
    .command('stages')
    .summary('the stages of a job with their output batches')
    .argument('<jobId>', 'job id')
    .option('--json', 'print JSON')
    .action(async (jobId: string, flags: { json?: boolean }) => {
      const id = jobIdArg(jobId);
      const stages = await withClient(app, (c) => c.listStages(id));
      if (flags.json) return printJson(app.io, { jobId: id, stages: redactDeep(stages) });
      printLine(
        app.io,
        table(
          ['STAGE ID', 'NAME', 'STATUS', 'TASKS', 'OUTPUT BATCHES'],
          stages.map((s) => [
            s.processingStageId,
            s.processingStageName,
            s.statusType,
            String(s.tasksNumber),
            s.outputBatches.join(', '),
          ]),
        ),
      );
    });

  addListOptions(
    jobs
      .command('tasks')
      .summary('the tasks of one stage (by stage id or name)')
      .argument('<jobId>', 'job id')
      .argument('<stage>', 'stage id or name (e.g. processing)'),
    1000,
  )
    .option('--json', 'print JSON')
    .action(async (jobId: string, stage: string, flags: ListFlags & { json?: boolean }) => {
      const id = jobIdArg(jobId);
      const { limit, page } = listBounds(flags, 1000);
      const tasks = await withClient(app, async (c) => {
        const stages = await c.listStages(id);
        const match =
          stages.find((s) => s.processingStageId === stage) ??
          stages.find((s) => s.processingStageName === stage);
        return takeUpTo(c.listTasks(id, match?.processingStageId ?? stage, page), limit);
      });
      if (flags.json) return printJson(app.io, { jobId: id, stage, tasks: redactDeep(tasks) });
      printLine(
        app.io,
        table(
          ['TASK', 'STATUS', 'PROGRESS', 'AT'],
          tasks.map((t) => [t.taskId, t.statusType, pct(t.progress), t.eventTimestamp]),
        ),
      );
    });

  addListOptions(
    jobs
      .command('logs')
      .summary('the logs of a job (with --out: every page into a JSONL file)')
      .argument('<jobId>', 'job id')
      .addOption(new Option('--severity <level>', 'only this severity').choices(LogSeverity.options))
      .option('-o, --out <file>', 'write every log entry to this JSONL file (all pages unless limited)'),
    200,
  )
    .option('--json', 'print JSON')
    .action(
      async (jobId: string, flags: ListFlags & { severity?: LogSeverity; out?: string; json?: boolean }) => {
        const id = jobIdArg(jobId);
        // Into a file, as the official fetch-logs -o: every page; on the terminal the first 200 by default.
        const { limit, page } = listBounds(flags, flags.out ? undefined : 200);
        const severity = flags.severity ? { severity: flags.severity } : {};
        const logs = await withClient(app, (c) => takeUpTo(c.listLogs(id, { ...page, ...severity }), limit));
        if (flags.out) {
          const file = await writeJsonl(app.io.cwd, flags.out, redactDeep(logs));
          if (flags.json) return printJson(app.io, { jobId: id, out: file.path, logs: file.lines });
          return printLine(app.io, `${file.lines} log entries of job ${id} in ${file.path}`);
        }
        if (flags.json) return printJson(app.io, { jobId: id, logs: redactDeep(logs) });
        for (const l of redactDeep(logs))
          printLine(
            app.io,
            `${l.createdAt} ${l.severity.padEnd(7)} ${l.reportingModule} ${l.logType} ${text(l.payload)}`,
          );
      },
    );

  registerTrtCompile(jobs, app);

  jobs
    .command('abort')
    .summary('abort a running job')
    .argument('<jobId>', 'job id')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--json', 'print the API answer as JSON')
    .action(async (jobId: string, flags: { yes?: boolean; json?: boolean }) => {
      const id = jobIdArg(jobId);
      await confirm(app, `abort job ${id}?`, flags.yes);
      const answer = await withClient(app, (c) => c.abortJob(id));
      if (flags.json) return printJson(app.io, { jobId: id, aborted: true, answer: redactDeep(answer) });
      printLine(app.io, `job ${id}: abort requested`);
    });

  jobs
    .command('restart')
    .summary('restart an aborted or failed job, optionally with overrides')
    .argument('<jobId>', 'job id')
    .addOption(new Option('--machine <type>', 'machine type').choices(['cpu', 'gpu']))
    .option('--workers-per-machine <n>', 'workers per machine')
    .option('--timeout <seconds>', 'processing timeout')
    .option('--max-parallel-tasks <n>', 'parallel tasks')
    .option('--max-image-failure-rate <fraction>', 'allowed failed images per shard (0–1)')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--json', 'print the API answer as JSON')
    .action(async (jobId: string, flags: Record<string, string | boolean | undefined>) => {
      const id = jobIdArg(jobId);
      const n = (v: unknown) => (typeof v === 'string' ? Number(v) : undefined);
      const overrides = parseOrThrow(
        RetryOverridesSchema,
        Object.fromEntries(
          Object.entries({
            machineType: flags.machine,
            workersPerMachine: n(flags.workersPerMachine),
            processingTimeoutSeconds: n(flags.timeout),
            maxParallelTasks: n(flags.maxParallelTasks),
            maxImageFailureRate: n(flags.maxImageFailureRate),
          }).filter(([, v]) => v !== undefined),
        ),
        'restart options',
      );
      await confirm(app, `restart job ${id}?`, flags.yes === true);
      const body = toRestartOverrides(overrides);
      const answer = await withClient(app, (c) =>
        c.restartJob(id, body ? { type: 'parameters-override-v1', ...body } : undefined),
      );
      if (flags.json) return printJson(app.io, { jobId: id, restarted: true, answer: redactDeep(answer) });
      printLine(app.io, `job ${id}: restart requested${body ? ' with overrides' : ''}`);
    });
}
