import { redactDeep, sourceLabel, type ResolvedRunSpec, type RunState } from '@rfbatch/shared';
import { expiryWarning } from './expiry-watch.js';

export interface ExpiryView {
  at: string;
  /** Seconds until the staged data is deleted by Roboflow (negative: already expired). */
  secondsLeft: number;
}

/** What `GET /runs/:id` and `rfbatch status --json` show about one run. */
export interface RunView extends RunState {
  spec?: ResolvedRunSpec;
  /** `warning`: the data expires within 24 h and the results are not downloaded yet (jobs `expiryWarning`). */
  expiry: { batch?: ExpiryView; output?: ExpiryView; warning?: string };
}

/** A row of `GET /runs` and `rfbatch ls --json`. */
export interface RunRow {
  runId: string;
  status: RunState['status'];
  attempt: number;
  createdAt: string;
  updatedAt: string;
  finishedAt?: string;
  source?: string;
  planned: number;
  results: number;
  error?: string;
}

function expiry(at: string | undefined, now: Date): ExpiryView | undefined {
  if (!at) return undefined;
  const ms = Date.parse(at);
  if (Number.isNaN(ms)) return undefined;
  return { at, secondsLeft: Math.round((ms - now.getTime()) / 1000) };
}

/** The spec as shown to API users: a notify URL may carry a credential in its path or query (redactDeep hides both). */
export function publicSpec(spec: ResolvedRunSpec): ResolvedRunSpec {
  return redactDeep(spec);
}

export function runView(state: RunState, spec: ResolvedRunSpec | undefined, now = new Date()): RunView {
  const batch = expiry(state.batchExpiresAt, now);
  const output = expiry(state.outputExpiresAt, now);
  const warning = expiryWarning(state, now);
  return {
    ...state,
    ...(spec ? { spec: publicSpec(spec) } : {}),
    expiry: { ...(batch ? { batch } : {}), ...(output ? { output } : {}), ...(warning ? { warning } : {}) },
  };
}

export function runRow(state: RunState, spec: ResolvedRunSpec | undefined): RunRow {
  return {
    runId: state.runId,
    status: state.status,
    attempt: state.attempt,
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
    ...(state.finishedAt ? { finishedAt: state.finishedAt } : {}),
    ...(spec
      ? {
          source: sourceLabel(spec),
        }
      : {}),
    planned: state.counters.planned ?? 0,
    results: state.counters.results ?? 0,
    ...(state.error ? { error: state.error.message } : {}),
  };
}

/**
 * `API unreachable since 12:00:01, retrying until 12:00:16 (last: …)` while a worker finds the API
 * silent (RunState.apiOutage); past the deadline it says that calls now fail at once.
 */
export function apiOutageLine(outage: RunState['apiOutage'], now = Date.now()): string | undefined {
  if (!outage) return undefined;
  const time = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  const until = Date.parse(outage.until);
  return until > now
    ? `API unreachable since ${time(outage.since)}, retrying until ${time(outage.until)} (last: ${outage.lastError})`
    : `API unreachable since ${time(outage.since)}; stopped retrying at ${time(outage.until)} (last: ${outage.lastError})`;
}
