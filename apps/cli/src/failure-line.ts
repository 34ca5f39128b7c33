/**
 * What a run that did not complete says at the end of `run` / `watch`: one line of what happened
 * and one of what to do, the details (log lines, evidence, every override) left to `rfbatch status`.
 */
import type { RunState } from '@rfbatch/shared';

/** The first clause of a triage summary (`the job ran out of memory with 4 workers per cpu machine`). */
function headline(summary: string): string {
  return summary.split(/: |; /)[0] ?? summary;
}

export function failureLine(state: RunState): { message: string; hint: string | undefined } {
  const where = state.failedStage ? ` at ${state.failedStage}` : '';
  const details = `details: rfbatch status ${state.runId}`;
  const triage = state.error?.triage;
  if (triage) {
    // The remote job's cause in a few words, and the one command that should fix it.
    return {
      message: `run ${state.runId} ${state.status}${where}: ${triage.class.replaceAll('-', ' ')} (${headline(triage.summary)})`,
      hint: `${triage.suggestion}; ${details}`,
    };
  }
  const why = state.error ? `: ${state.error.message}` : '';
  const steps =
    state.status === 'failed' ? [state.error?.hint, `retry with \`rfbatch retry ${state.runId}\``] : [];
  const hint = steps.filter(Boolean).join('; ');
  return { message: `run ${state.runId} ${state.status}${where}${why}`, hint: hint || undefined };
}
