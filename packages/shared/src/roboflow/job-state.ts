/**
 * One JobState from either answer shape of `GET /jobs/{id}` (roboflow-api.md §8): shape A
 * `{job:{isTerminal, error, currentStage, …}}` (Swagger, the official client) and shape B
 * `{jobStatus, progress}` (the seed reference). The `status` field is the "ok" envelope, never a state.
 */
import type { GetJobResponse, JobState } from '../api/jobs.schema.js';

type State = JobState['state'];

/** Shape B's words (and their usual synonyms) for each of our four states. */
const STATUS_WORDS: Record<State, readonly string[]> = {
  pending: ['pending', 'queued', 'created', 'waiting', 'scheduled', 'accepted', 'new'],
  processing: ['processing', 'running', 'in_progress', 'in-progress', 'started', 'active', 'exporting'],
  completed: ['completed', 'complete', 'succeeded', 'success', 'successful', 'finished', 'done'],
  failed: [
    'failed',
    'fail',
    'failure',
    'error',
    'errored',
    'aborted',
    'cancelled',
    'canceled',
    'timeout',
    'timed_out',
  ],
};

function stateOfWord(word: string): State | undefined {
  const w = word.trim().toLowerCase();
  for (const [state, words] of Object.entries(STATUS_WORDS) as [State, readonly string[]][]) {
    if (words.includes(w)) return state;
  }
  return undefined;
}

/** A 0–1 fraction; a value in (1, 100] is read as a percentage. Anything else is unknown (null). */
function fraction(progress: number | null | undefined): number | null {
  if (progress === undefined || progress === null || !Number.isFinite(progress) || progress < 0) return null;
  if (progress <= 1) return progress;
  if (progress <= 100) return progress / 100;
  return null;
}

/**
 * `stagesProgress` is the progress computed from the stages' tasks (stage-progress.ts), used when the
 * answer itself carries none (the official shape).
 */
export function normaliseJobState(raw: GetJobResponse, stagesProgress: number | null = null): JobState {
  const progress = fraction(raw.progress) ?? stagesProgress;
  const job = raw.job;
  if (job) {
    const terminal = job.isTerminal;
    const error = job.error;
    const stage = job.currentStage ?? null;
    const state: State = terminal ? (error ? 'failed' : 'completed') : stage ? 'processing' : 'pending';
    return {
      state,
      stage,
      progress: state === 'completed' ? 1 : progress,
      terminal,
      error: terminal && error,
    };
  }
  // Shape B only. An unknown word keeps the job "processing": polling goes on, bounded by the caller's wait.
  const state = stateOfWord(raw.jobStatus ?? '') ?? 'processing';
  const terminal = state === 'completed' || state === 'failed';
  return {
    state,
    stage: null,
    progress: state === 'completed' ? 1 : progress,
    terminal,
    error: state === 'failed',
  };
}
