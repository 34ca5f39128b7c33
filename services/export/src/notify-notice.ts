import { z } from 'zod';
import type { RunState } from '@rfbatch/shared';

/** What a run's `notify` URL is told about: each end state, and the expiry warning. */
export const NotifyEvent = z.enum(['run.completed', 'run.failed', 'run.cancelled', 'run.expiry-warning']);
export type NotifyEvent = z.infer<typeof NotifyEvent>;

/**
 * The body shape: `json` (the event and what the run holds), `slack` (`{ text }`, what a Slack
 * incoming webhook and its look-alikes accept), or `auto` (slack for hooks.slack.com, else json).
 */
export const NotifyFormat = z.enum(['auto', 'json', 'slack']);
export type NotifyFormat = z.infer<typeof NotifyFormat>;

/** The JSON body: `event` first, then the run summary (completed) or the run's end state. */
export type NotifyBody = { event: NotifyEvent; runId: string } & Record<string, unknown>;

/** True for a Slack incoming webhook URL (`https://hooks.slack.com/...`). */
export function isSlackWebhook(url: string): boolean {
  try {
    return new URL(url).hostname.toLowerCase() === 'hooks.slack.com';
  } catch {
    return false;
  }
}

export function resolveNotifyFormat(url: string, format: NotifyFormat): 'json' | 'slack' {
  if (format !== 'auto') return format;
  return isSlackWebhook(url) ? 'slack' : 'json';
}

/**
 * The body of one notice. `summary` is summary.json of a completed run (absent for a run that ends
 * without an export, e.g. `rfbatch stage`); every text in the state is already redacted by the store.
 */
export function noticeBody(
  event: NotifyEvent,
  state: RunState,
  extra: { summary?: Record<string, unknown>; message?: string } = {},
): NotifyBody {
  const base = { event, runId: state.runId };
  switch (event) {
    case 'run.completed':
      if (extra.summary) return { ...base, ...extra.summary };
      return {
        ...base,
        state: state.status,
        attempt: state.attempt,
        counters: state.counters,
        warnings: state.warnings,
        finishedAt: state.finishedAt ?? null,
      };
    case 'run.failed':
      return {
        ...base,
        state: state.status,
        attempt: state.attempt,
        failedStage: state.failedStage ?? null,
        error: state.error
          ? { code: state.error.code, message: state.error.message, hint: state.error.hint ?? null }
          : null,
        finishedAt: state.finishedAt ?? null,
      };
    case 'run.cancelled':
      return { ...base, state: state.status, attempt: state.attempt, finishedAt: state.finishedAt ?? null };
    case 'run.expiry-warning':
      return {
        ...base,
        state: state.status,
        message: extra.message ?? '',
        batchExpiresAt: state.batchExpiresAt ?? null,
        outputExpiresAt: state.outputExpiresAt ?? null,
      };
  }
}

function count(body: NotifyBody, key: string): number | undefined {
  const counts = body.counts as Record<string, unknown> | undefined;
  const value = counts?.[key];
  return typeof value === 'number' ? value : undefined;
}

/** One line for a chat channel: the run, what happened and, for a failure, what to do. */
export function slackText(body: NotifyBody): string {
  const run = `rfbatch run \`${body.runId}\``;
  switch (body.event) {
    case 'run.completed': {
      const results = count(body, 'results');
      const missing = count(body, 'missing');
      const tally =
        results === undefined ? '' : `: ${results} results${missing ? `, ${missing} without a result` : ''}`;
      return `:white_check_mark: ${run} completed${tally}`;
    }
    case 'run.failed': {
      const error = body.error as { message: string; hint: string | null } | null;
      const stage = typeof body.failedStage === 'string' ? ` at ${body.failedStage}` : '';
      const why = error ? `: ${error.message}` : '';
      const todo = error?.hint ? ` — ${error.hint}` : '';
      return `:x: ${run} failed${stage}${why}${todo}`;
    }
    case 'run.cancelled':
      return `:no_entry_sign: ${run} was cancelled`;
    case 'run.expiry-warning':
      return `:warning: ${run}: ${String(body.message)}`;
  }
}

/** What is POSTed: the JSON body, or `{ text }` for Slack. */
export function formatNotice(body: NotifyBody, format: 'json' | 'slack'): object {
  return format === 'slack' ? { text: slackText(body) } : body;
}
