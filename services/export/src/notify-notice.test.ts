import { describe, expect, it } from 'vitest';
import type { RunState } from '@rfbatch/shared';
import { formatNotice, noticeBody, resolveNotifyFormat, slackText } from './notify-notice.js';

const state = (extra: Partial<RunState> = {}): RunState =>
  ({
    runId: 'r1',
    status: 'failed',
    attempt: 1,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:01:00.000Z',
    finishedAt: '2026-01-01T00:01:00.000Z',
    counters: {},
    timings: {},
    warnings: [],
    ...extra,
  }) as RunState;

describe('notify notices', () => {
  it('auto picks Slack for hooks.slack.com only; an explicit format wins', () => {
    expect(resolveNotifyFormat('https://hooks.slack.com/services/T0/B0/x', 'auto')).toBe('slack');
    expect(resolveNotifyFormat('https://HOOKS.SLACK.COM/services/x', 'auto')).toBe('slack');
    expect(resolveNotifyFormat('https://hooks.slack.com.evil.example/x', 'auto')).toBe('json');
    expect(resolveNotifyFormat('https://example.com/hook', 'auto')).toBe('json');
    expect(resolveNotifyFormat('https://hooks.slack.com/x', 'json')).toBe('json');
    expect(resolveNotifyFormat('https://example.com/hook', 'slack')).toBe('slack');
  });

  it('a failure says the stage, the error and what to do; Slack gets only { text }', () => {
    const body = noticeBody(
      'run.failed',
      state({
        failedStage: 'await',
        error: { code: 'job_failed', message: 'remote job failed', hint: 'rfbatch retry r1' },
      }),
    );
    expect(body).toMatchObject({
      event: 'run.failed',
      runId: 'r1',
      failedStage: 'await',
      error: { code: 'job_failed', message: 'remote job failed', hint: 'rfbatch retry r1' },
    });
    expect(formatNotice(body, 'slack')).toEqual({
      text: ':x: rfbatch run `r1` failed at await: remote job failed — rfbatch retry r1',
    });
    expect(formatNotice(body, 'json')).toBe(body);
  });

  it('a completed run carries its summary, or its counters when it has none', () => {
    const summary = { runId: 'r1', state: 'completed', counts: { results: 5, missing: 2 } };
    const body = noticeBody('run.completed', state({ status: 'completed' }), { summary });
    expect(body).toEqual({ event: 'run.completed', ...summary });
    expect(slackText(body)).toBe(
      ':white_check_mark: rfbatch run `r1` completed: 5 results, 2 without a result',
    );
    const staged = noticeBody('run.completed', state({ status: 'completed' }));
    expect(staged).toMatchObject({ event: 'run.completed', state: 'completed', counters: {} });
    expect(slackText(staged)).toBe(':white_check_mark: rfbatch run `r1` completed');
  });

  it('the expiry warning carries the message and the dates', () => {
    const body = noticeBody('run.expiry-warning', state({ batchExpiresAt: '2026-01-02T00:00:00Z' }), {
      message: 'the staged inputs of run r1 expire soon',
    });
    expect(body).toMatchObject({ batchExpiresAt: '2026-01-02T00:00:00Z', outputExpiresAt: null });
    expect(slackText(body)).toBe(':warning: rfbatch run `r1`: the staged inputs of run r1 expire soon');
  });
});
