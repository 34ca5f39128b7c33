/** The run error's message from logs already read: notification first, each error once, a failed read said. */
import { describe, expect, it } from 'vitest';
import type { JobLog, JobMetadata } from '@rfbatch/shared';
import { describeJobFailure } from './job-failure.js';

const at = '2026-11-29T10:00:00.000Z';
const log = (message: string, severity: JobLog['severity'] = 'error'): JobLog => ({
  createdAt: at,
  severity,
  reportingModule: 'worker',
  logType: 'task-error',
  payload: { message },
});
const meta = (lastNotification: JobMetadata['lastNotification']): JobMetadata => ({
  jobId: 'j1',
  name: 'j1',
  jobDefinition: {},
  error: true,
  isTerminal: true,
  lastNotification,
  currentStage: 'processing',
  createdAt: at,
  lastUpdate: at,
  restartParametersOverride: [],
});

describe('describeJobFailure', () => {
  it('names the stage and notification, then each error line once, skipping warnings and what the notification says', () => {
    const logs = [log('disk full'), log('disk full'), log('a warning', 'warning'), log('boom'), log('late')];
    const { message, logLines } = describeJobFailure('j1', meta('job failed: boom'), { logs }, 5);
    expect(logLines).toEqual(['worker: disk full', 'worker: late']);
    expect(message).toBe(
      'remote job "j1" failed in stage "processing"; last notification: job failed: boom; first errors: worker: disk full | worker: late',
    );
  });
  it('stops at maxLines; a read that failed later is said only when the lines were not enough', () => {
    const logs = [log('one'), log('two'), log('three')];
    const failed = { error: new Error('503 from the API') };
    expect(describeJobFailure('j1', undefined, { logs, errorLogsFailure: failed }, 2).logLines).toEqual([
      'worker: one',
      'worker: two',
    ]);
    expect(describeJobFailure('j1', undefined, { logs, errorLogsFailure: failed }, 5).logLines).toEqual([
      'worker: one',
      'worker: two',
      'worker: three',
      "(the job's logs could not be read: 503 from the API)",
    ]);
    // maxLines 0 still shows the first line, as the lazy reader did.
    expect(describeJobFailure('j1', undefined, { logs }, 0).logLines).toEqual(['worker: one']);
  });
});
