/**
 * Expiry awareness: staged inputs and job outputs are deleted 7 days after they are made. A run whose
 * results are not downloaded yet and whose data expires within a day gets a warning — recorded once in
 * the run (by the stages that watch the remote side: await, collect) and shown live by `status` and
 * `GET /runs/:id` (which only read).
 */
import { EXPIRY_WARNING_MS, formatDuration, type RunState, type ServiceContext } from '@rfbatch/shared';

/**
 * The warning for a run whose results are not downloaded yet and whose data expires within 24 h
 * (outputs once the job has them, else the staged inputs), or undefined. The first sentence does not
 * change as time passes, so it identifies the warning (`expiryWarningKey`).
 */
export function expiryWarning(state: RunState, now = new Date()): string | undefined {
  if (state.status === 'completed' || state.status === 'cancelled') return undefined;
  const outputs = state.outputExpiresAt !== undefined;
  const at = state.outputExpiresAt ?? state.batchExpiresAt;
  if (!at) return undefined;
  const msLeft = Date.parse(at) - now.getTime();
  if (!Number.isFinite(msLeft) || msLeft > EXPIRY_WARNING_MS) return undefined;
  const what = outputs ? "the job's outputs" : 'the staged inputs';
  const key = `${what} of run ${state.runId} expire at ${at}, within 24 h, and its results are not downloaded yet`;
  if (msLeft <= 0)
    return `${key}: they have expired; \`rfbatch retry ${state.runId}\` stages the inputs again`;
  const todo =
    state.status === 'failed'
      ? `retry it now (\`rfbatch retry ${state.runId}\`), or it must be staged again after that`
      : 'keep the workers running: the run exports as soon as the job ends';
  return `${key} (${formatDuration(msLeft, 'hours-minutes')} left): ${todo}`;
}

/** The part of an expiry warning that does not change with time. */
export function expiryWarningKey(warning: string): string {
  return warning.split(/ \(|: /)[0] ?? warning;
}

/** Records the expiry warning in the run once (RunStore.warn), when there is one. */
export async function warnIfExpiring(
  ctx: ServiceContext,
  state: RunState,
  now = new Date(),
): Promise<boolean> {
  const warning = expiryWarning(state, now);
  if (!warning) return false;
  const key = expiryWarningKey(warning);
  if (state.warnings.some((w) => w.startsWith(key))) return false;
  await ctx.store.warn(state.runId, warning, 'expiry');
  return true;
}
