import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { readObjectText } from '@rfbatch/object-store';
import {
  looksLikeUrl,
  outputFile,
  TERMINAL_STATUSES,
  type ResolvedRunSpec,
  type RunState,
  type RunStore,
} from '@rfbatch/shared';
import { CliError, ExitCode } from './exit-codes.js';
import { failureLine } from './failure-line.js';
import { note, printJson, printLine, sleep, type CliIO } from './io.js';
import { formatCount, formatDuration } from './render/format.js';
import { colorOn } from './render/color.js';
import { createRenderer, type Renderer } from './render/progress.js';
import { jsonLogs, stderrText } from './stderr-lines.js';
import { runView } from '@rfbatch/run-control';

export interface FollowResult {
  state: RunState;
  /** True when the signal stopped the following before the run ended (Ctrl-C). */
  detached: boolean;
}

/** Polls the run state until it is terminal (or the signal fires), drawing each state. */
export async function followRun(
  store: RunStore,
  runId: string,
  options: { renderer?: Renderer; signal: AbortSignal; pollMs?: number },
): Promise<FollowResult> {
  const pollMs = options.pollMs ?? 250;
  let failures = 0;
  let last: RunState | undefined;
  for (;;) {
    try {
      last = await store.require(runId);
      failures = 0;
    } catch (error) {
      // Redis answers but no longer has the run: its state was lost (a FLUSHALL, an eviction, a new Redis).
      if (last !== undefined && error instanceof Error && /^unknown run /.test(error.message))
        throw new CliError(
          ExitCode.failed,
          `the state of run ${runId} was lost from Redis while it was ${last.status} (flushed, evicted or a new Redis)`,
          `\`rfbatch recover ${runId}\` rebuilds it from the work dir and the API and resumes it`,
        );
      // Redis blinked: keep the display, try again for a while before giving up.
      if (last === undefined || ++failures > 40) throw error;
    }
    if (TERMINAL_STATUSES.includes(last.status)) {
      options.renderer?.finish(last);
      return { state: last, detached: false };
    }
    options.renderer?.update(last);
    if (options.signal.aborted) return { state: last, detached: true };
    await sleep(pollMs, options.signal);
  }
}

/** A progress renderer on stderr: bars on a terminal, plain lines otherwise. */
export function stderrRenderer(io: CliIO): Renderer {
  // With LOG_FORMAT=json: plain lines, each as a JSON line (stderr-lines.ts).
  return createRenderer({
    write: stderrText(io),
    tty: Boolean(io.stderr.isTTY) && io.env.TERM !== 'dumb' && !jsonLogs(io),
    color: colorOn(io.stderr, io.env) && !jsonLogs(io),
    ...(io.stderr.columns ? { columns: io.stderr.columns } : {}),
  });
}

interface SummaryFile {
  path: string;
  text: string;
  data: Record<string, unknown>;
}

/** `<out>/summary.json` as the export service wrote it, or undefined when there is none (yet). */
export async function readSummary(spec: ResolvedRunSpec): Promise<SummaryFile | undefined> {
  const path = outputFile(spec.output.dir, 'summary.json');
  try {
    const text = looksLikeUrl(path)
      ? await readObjectText(spec.output.dir, 'summary.json')
      : await readFile(path, 'utf8');
    if (text === undefined) return undefined;
    const data = JSON.parse(text) as Record<string, unknown>;
    // Another run's summary (a shared --out) is never shown as this run's.
    return data.runId === spec.runId ? { path, text, data } : undefined;
  } catch {
    return undefined;
  }
}

const num = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);

/** Files of a completed run without a result: `not-processed` and `failed` lines of results.jsonl. */
function withoutResult(summary: Record<string, unknown> | undefined, state: RunState) {
  const counts = (summary?.counts ?? {}) as Record<string, unknown>;
  const byStatus = (counts.byStatus ?? {}) as Record<string, unknown>;
  return {
    notProcessed: num(byStatus['not-processed']) ?? num(counts.missing) ?? state.counters.missing ?? 0,
    failed: num(byStatus.failed) ?? 0,
    uploaded: (num(counts.sourceFiles) ?? 0) - (num(counts.skipped) ?? 0),
  };
}

/** A completed run whose files were not all processed ends with exit code 5, naming how many. */
function failIfUnprocessed(state: RunState, n: ReturnType<typeof withoutResult>): void {
  const missing = n.notProcessed + n.failed;
  if (missing === 0) return;
  const parts = [
    n.notProcessed ? `${formatCount(n.notProcessed)} not processed` : '',
    n.failed ? `${formatCount(n.failed)} failed` : '',
  ].filter(Boolean);
  throw new CliError(
    ExitCode.partial,
    `run ${state.runId} completed with failures: ${formatCount(missing)} of ${formatCount(Math.max(n.uploaded, missing))} uploaded files have no result (${parts.join(', ')})`,
    'their lines in results.jsonl say why; submit those files again in a new run',
  );
}

/**
 * Prints the end of a run: with --json only summary.json on stdout; otherwise a short human summary
 * and where the results are. A run that did not complete becomes a CliError with its reason.
 */
export async function reportOutcome(
  io: CliIO,
  store: RunStore,
  state: RunState,
  options: { json: boolean },
): Promise<void> {
  const spec = await store.spec(state.runId);
  const summary = await readSummary(spec);
  if (options.json) {
    if (summary) io.stdout.write(summary.text.endsWith('\n') ? summary.text : `${summary.text}\n`);
    else printJson(io, runView(state, spec));
  }
  const took = state.finishedAt ? Date.parse(state.finishedAt) - Date.parse(state.createdAt) : undefined;
  if (state.status === 'completed') {
    const unprocessed = withoutResult(summary?.data, state);
    if (options.json) return failIfUnprocessed(state, unprocessed);
    const counts = (summary?.data.counts ?? {}) as Record<string, unknown>;
    const c = state.counters;
    const results = num(counts.results) ?? c.results ?? 0;
    const missing = num(counts.missing) ?? c.missing ?? 0;
    const skipped = num(counts.skipped) ?? c.skipped ?? 0;
    printLine(io, `✓ run ${state.runId} completed${took !== undefined ? ` in ${formatDuration(took)}` : ''}`);
    printLine(
      io,
      `  ${formatCount(num(counts.sourceFiles) ?? c.sourceFiles ?? 0)} source files · ${formatCount(results)} results · ` +
        `${formatCount(missing)} missing · ${formatCount(skipped)} skipped`,
    );
    printLine(io, `  results  ${outputFile(spec.output.dir, 'results.jsonl')}`);
    if (summary) printLine(io, `  summary  ${summary.path}`);
    const report = outputFile(spec.output.dir, 'report.html');
    if (looksLikeUrl(report) || existsSync(report)) printLine(io, `  report   ${report}`);
    for (const w of state.warnings.slice(-5)) note(io, `warning: ${w}`);
    return failIfUnprocessed(state, unprocessed);
  }
  const { message, hint } = failureLine(state);
  throw new CliError(ExitCode.failed, message, hint);
}
