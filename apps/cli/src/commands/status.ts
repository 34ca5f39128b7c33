import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import {
  looksLikeUrl,
  outputFile,
  sourceLabel,
  type JobTriage,
  type ResolvedRunSpec,
  type RunStore,
} from '@rfbatch/shared';
import type { App } from '../app.js';
import { cliConfig, openStore } from '../cli-context.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { printJson, printLine, type CliIO } from '../io.js';
import { formatDuration, timeLeft } from '../render/format.js';
import { colorOn } from '../render/color.js';
import { stageLines, stageMark } from '../render/progress.js';
import { apiOutageLine, runView, type RunView } from '@rfbatch/run-control';

/** The run named, or the newest one. */
export async function resolveRunId(store: RunStore, runId: string | undefined): Promise<string> {
  if (runId) return runId;
  const [latest] = await store.list(1);
  if (!latest)
    throw new CliError(
      ExitCode.notFound,
      'there are no runs yet',
      'start one with `rfbatch run <folder> --workflow <id>`',
    );
  return latest;
}

/** The triage of a failed remote job: cause, evidence, failed images, the suggested restart. */
function printTriage(io: CliIO, triage: JobTriage): void {
  printLine(io, `  cause     ${triage.class}: ${triage.summary}`);
  triage.evidence.forEach((line, i) =>
    printLine(io, `  ${i === 0 ? 'evidence' : '        '}  ${line.replace(/\s*\n\s*/g, ' ⏎ ')}`),
  );
  if (triage.failedImages?.length) {
    const shown = triage.failedImages
      .slice(0, 10)
      .map((f) => f.source ?? f.name)
      .join(', ');
    const more = triage.failedImages.length > 10 ? ` and ${triage.failedImages.length - 10} more` : '';
    printLine(io, `  failed    ${shown}${more}`);
  }
  printLine(io, `  suggest   ${triage.suggestion}`);
}

function printView(io: CliIO, view: RunView): void {
  const spec: ResolvedRunSpec | undefined = view.spec;
  const took = view.finishedAt
    ? ` in ${formatDuration(Date.parse(view.finishedAt) - Date.parse(view.createdAt))}`
    : '';
  printLine(
    io,
    `run ${view.runId}  ${view.status}${took}${view.attempt > 0 ? `  (attempt ${view.attempt + 1})` : ''}`,
  );
  if (spec) {
    const src = sourceLabel(spec);
    printLine(io, `  source    ${src} (${spec.source.kind}, ${spec.source.media})`);
    printLine(io, `  workflow  ${spec.workflow.workflowId} · batch ${spec.batchId} · job ${spec.jobId}`);
  }
  printLine(io, `  created   ${view.createdAt}${view.finishedAt ? ` · finished ${view.finishedAt}` : ''}`);
  const color = colorOn(io.stdout, io.env);
  for (const s of stageLines(view)) {
    const mark = stageMark(s.state, color);
    const t =
      view.timings[
        s.label === 'index'
          ? 'verify'
          : s.label === 'job'
            ? 'await'
            : s.label === 'download'
              ? 'download'
              : s.label === 'upload'
                ? 'upload'
                : 'plan'
      ];
    const dur =
      t?.startedAt && t.endedAt
        ? `  (${formatDuration(Date.parse(t.endedAt) - Date.parse(t.startedAt))})`
        : '';
    printLine(io, `  ${mark} ${s.label.padEnd(9)}${s.detail}${dur}`);
  }
  if (view.expiry.batch || view.expiry.output) {
    const parts = [
      view.expiry.batch ? `staged data ${timeLeft(view.expiry.batch.secondsLeft)}` : '',
      view.expiry.output ? `outputs ${timeLeft(view.expiry.output.secondsLeft)}` : '',
    ].filter(Boolean);
    printLine(io, `  expiry    ${parts.join(' · ')}`);
  }
  if (view.expiry.warning) printLine(io, `  ! expiry  ${view.expiry.warning}`);
  const outage = apiOutageLine(view.apiOutage);
  if (outage) printLine(io, `  ! api     ${outage}`);
  if (view.error) {
    printLine(io, `  error     ${view.failedStage ? `[${view.failedStage}] ` : ''}${view.error.message}`);
    if (view.error.hint) printLine(io, `  hint      ${view.error.hint}`);
    if (view.error.triage) printTriage(io, view.error.triage);
  }
  if (view.warnings.length) {
    printLine(io, `  warnings  ${view.warnings.length}`);
    for (const w of view.warnings.slice(-10)) printLine(io, `    - ${w}`);
  }
  if (spec && view.status === 'completed') {
    printLine(io, `  results   ${outputFile(spec.output.dir, 'results.jsonl')}`);
    const report = outputFile(spec.output.dir, 'report.html');
    if (looksLikeUrl(report) || existsSync(report)) printLine(io, `  report    ${report}`);
  }
}

export function registerStatus(program: Command, app: App): void {
  program
    .command('status')
    .summary('show one run (the newest when no id is given)')
    .argument('[runId]', 'run id (default: the newest run)')
    .option('--json', 'print the run state as JSON')
    .action(async (runIdArg: string | undefined, flags: { json?: boolean }) => {
      const handle = await openStore(cliConfig(app.io));
      try {
        const runId = await resolveRunId(handle.store, runIdArg);
        const state = await handle.store.require(runId);
        const view = runView(state, await handle.store.spec(runId).catch(() => undefined));
        if (flags.json) printJson(app.io, view);
        else printView(app.io, view);
      } finally {
        await handle.close();
      }
    });
}
