import type { Command } from 'commander';
import { createRoboflowClient, resolveRunSpec, type ClosableRoboflowClient } from '@rfbatch/shared';
import type { App } from '../app.js';
import { cliConfig, cliLogger } from '../cli-context.js';
import { ExitCode } from '../exit-codes.js';
import { printJson, printLine, type CliIO } from '../io.js';
import { formatBytes, formatCount, formatDuration } from '../render/format.js';
import { addRunOptions, specFromFlags, type RunFlags } from '../run-options.js';
import { planRun } from '@rfbatch/ingest';
import { preflight, type PreflightReport } from '@rfbatch/preflight';
import { buildJobBody, webhookUrl } from '@rfbatch/shared';

/** Preflight answers fast: a few tries, never the services' 5-minute retry deadline. */
const PREFLIGHT_RETRY = { maxAttempts: 3, deadlineMs: 20_000 };

/**
 * Builds the run's spec from the `run` flags and checks it before anything is uploaded (ingest
 * `preflight`): API key and workspace, the 402 plan gate, ids, the job id, the source and the plan.
 * Talks to the API only to read; needs no Redis.
 */
export async function runPreflight(app: App, source: string, flags: RunFlags): Promise<PreflightReport> {
  const { io } = app;
  const config = cliConfig(io);
  const spec = resolveRunSpec(specFromFlags(source, flags, io.cwd, { allowMissingSource: true }));
  let client: ClosableRoboflowClient | undefined;
  if (config.roboflow.apiKey) {
    client = createRoboflowClient({
      apiUrl: config.roboflow.apiUrl,
      apiKey: config.roboflow.apiKey,
      ...(config.roboflow.workspace ? { workspace: config.roboflow.workspace } : {}),
      requestTimeoutMs: config.roboflow.requestTimeoutMs,
      connectTimeoutMs: config.roboflow.connectTimeoutMs,
      retry: { ...config.roboflow.retry, ...PREFLIGHT_RETRY },
      logger: cliLogger(io, app.verbose()),
    });
  }
  try {
    return await preflight(spec, {
      client,
      config,
      planRun,
      jobBody: (workspace) => buildJobBody(spec, workspace, webhookUrl(config)),
    });
  } finally {
    await client?.close();
  }
}

const MARK = { ok: '✓', problem: '✗', warning: '!', skipped: '-' } as const;

/** The report for a person: checks, the plan, problems with their fixes, warnings. */
export function printPreflightReport(io: CliIO, report: PreflightReport): void {
  const n = report.problems.length;
  printLine(
    io,
    `preflight of run ${report.runId}: ${report.ok ? 'OK — nothing stops this run' : `${n} problem${n === 1 ? '' : 's'} — the run would fail`}`,
  );
  const width = Math.max(...report.checks.map((c) => c.name.length));
  for (const c of report.checks) printLine(io, `  ${MARK[c.status]} ${c.name.padEnd(width)}  ${c.detail}`);

  const plan = report.plan;
  if (plan) {
    printLine(io, 'plan');
    printLine(io, `  source    ${plan.source} (${plan.sourceKind}, ${plan.media})`);
    const reasons = Object.entries(plan.skippedByReason)
      .map(([reason, count]) => `${count} ${reason}`)
      .join(', ');
    const size = plan.bytes ? `, ${formatBytes(plan.bytes)}` : '';
    printLine(
      io,
      `  files     ${formatCount(plan.files)} ${plan.media}${size} (${formatCount(plan.seen)} seen${plan.skipped ? `, ${formatCount(plan.skipped)} skipped: ${reasons}` : ''})`,
    );
    for (const s of plan.skippedExamples.slice(0, 10))
      printLine(io, `  skipped   ${s.source} — ${s.reason}${s.detail ? ` (${s.detail})` : ''}`);
    if (plan.skipped > 10)
      printLine(
        io,
        `            … and ${formatCount(plan.skipped - Math.min(10, plan.skippedExamples.length))} more`,
      );
    const units =
      plan.uploadMode === 'shards'
        ? `${plan.shards} tar shard${plan.shards === 1 ? '' : 's'} of up to ${plan.largestUnitItems} images`
        : plan.uploadMode === 'references'
          ? `${plan.units} reference request${plan.units === 1 ? '' : 's'}`
          : `${plan.units} upload group${plan.units === 1 ? '' : 's'} of single uploads`;
    printLine(io, `  upload    ${plan.uploadMode}: ${units} → ${plan.batchType} "${report.batchId}"`);
    printLine(
      io,
      `  job       "${report.jobId}"${report.workspace ? ` in workspace "${report.workspace}"` : ''}`,
    );
    const hooks = !plan.webhooks.configured
      ? 'none (no RFBATCH_PUBLIC_URL): progress is polled'
      : plan.webhooks.ingest
        ? 'ingest and job notifications'
        : `job notification only (the API drops ingest notifications for ${plan.uploadMode} uploads)`;
    printLine(io, `  webhooks  ${hooks}`);
    const t = plan.timeoutBudget;
    const set = t.configuredSeconds === null ? 'not set' : `${t.configuredSeconds} s set`;
    printLine(
      io,
      `  timeout   ${set}; estimated budget ${t.estimatedSeconds} s (${formatDuration(t.estimatedSeconds * 1000)}) — ${t.basis}`,
    );
  }
  if (report.problems.length) {
    printLine(io, 'problems');
    for (const p of report.problems) {
      printLine(io, `  ✗ ${p.message}`);
      printLine(io, `    fix: ${p.fix}`);
    }
  }
  if (report.warnings.length) {
    printLine(io, 'warnings');
    for (const w of report.warnings) {
      printLine(io, `  ! ${w.message}`);
      printLine(io, `    fix: ${w.fix}`);
    }
  }
  printLine(io, 'nothing was uploaded');
}

/** Prints the report (or its JSON) and sets a non-zero exit code when a problem would fail the run. */
export function reportPreflight(app: App, report: PreflightReport, json: boolean): void {
  if (json) printJson(app.io, report);
  else printPreflightReport(app.io, report);
  if (!report.ok) app.exitCode = ExitCode.failed;
}

export function registerPreflight(program: Command, app: App): void {
  addRunOptions(
    program
      .command('preflight')
      .summary('check a run before anything is uploaded, and print its plan')
      .description(
        'Checks what would make `rfbatch run` with the same arguments fail, before a byte is uploaded: the API key and ' +
          'workspace, whether the workspace can run batch jobs (402: it needs a Growth or Enterprise plan), the batch and ' +
          'job ids, whether the job id is free, the source, file sizes and formats. Prints the plan: files, skipped files ' +
          'and why, shards, bytes, upload mode, which webhooks will fire, and an estimated processing timeout. ' +
          'Exits 1 when a problem would make the run fail. Uploads nothing and needs no Redis. Same as `rfbatch run --dry-run`.',
      )
      .argument('<source>', 'folder of images/videos, a .jsonl references file, or an https URL of one'),
  )
    .option('--json', 'print the report as JSON')
    .action(async (source: string, flags: RunFlags & { json?: boolean }) => {
      reportPreflight(app, await runPreflight(app, source, flags), flags.json === true);
    });
}
