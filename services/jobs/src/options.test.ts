import { describe, expect, it } from 'vitest';
import { ConfigError, describeDeprecation, type Deprecation } from '@rfbatch/shared';
import { jobsOptionsFromEnv, resolveJobsOptions } from './options.js';

function badEnv(env: Record<string, string>): string {
  try {
    jobsOptionsFromEnv(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error('a bad environment was accepted');
}

describe('the jobs options schema', () => {
  it('has the defaults of the jobs service', () => {
    expect(resolveJobsOptions()).toEqual({
      concurrency: 8,
      pollMinMs: 1_000,
      pollMaxMs: 30_000,
      verifyTimeoutMs: 1_800_000,
      shardErrorGraceMs: 60_000,
      defaultProcessingTimeoutSeconds: 86_400,
      awaitMarginMs: 1_800_000,
      failureLogLines: 3,
      lockDurationMs: 30_000,
      stalledIntervalMs: 30_000,
    });
    // The stall check follows the lock unless set; programmatic values are not bounded (tests).
    expect(resolveJobsOptions({ lockDurationMs: 500 })).toMatchObject({
      lockDurationMs: 500,
      stalledIntervalMs: 500,
    });
    expect(jobsOptionsFromEnv({})).toEqual({});
  });

  it('reads RFBATCH_JOBS_* and still the old names, with a warning naming the new one', () => {
    const seen: Deprecation[] = [];
    const options = jobsOptionsFromEnv(
      {
        RFBATCH_JOBS_CONCURRENCY: '2',
        RFBATCH_POLL_MIN_MS: '200',
        RFBATCH_POLL_MAX_MS: '900',
        RFBATCH_JOBS_POLL_MAX_MS: '1000',
        RFBATCH_LOCK_DURATION_MS: '2000',
        RFBATCH_JOBS_STALLED_INTERVAL_MS: '5000',
      },
      (d) => seen.push(d),
    );
    expect(options).toEqual({
      concurrency: 2,
      pollMinMs: 200,
      pollMaxMs: 1_000,
      lockDurationMs: 2_000,
      stalledIntervalMs: 5_000,
    });
    expect(seen.map(describeDeprecation)).toEqual([
      'RFBATCH_POLL_MIN_MS is deprecated: use RFBATCH_JOBS_POLL_MIN_MS',
      'RFBATCH_POLL_MAX_MS is deprecated and ignored: RFBATCH_JOBS_POLL_MAX_MS is set',
      'RFBATCH_LOCK_DURATION_MS is deprecated: use RFBATCH_JOBS_LOCK_DURATION_MS',
    ]);
  });

  it('lists every bad variable with its value and what it expects', () => {
    expect(
      badEnv({
        RFBATCH_JOBS_CONCURRENCY: '0',
        RFBATCH_VERIFY_TIMEOUT_MS: 'soon',
        RFBATCH_JOBS_LOCK_DURATION_MS: '50',
      }),
    ).toBe(
      [
        'invalid configuration:',
        '  RFBATCH_JOBS_CONCURRENCY: expected a whole number of at least 1 (got "0")',
        '  RFBATCH_VERIFY_TIMEOUT_MS: expected a whole number of at least 0 (got "soon")',
        '  RFBATCH_JOBS_LOCK_DURATION_MS: expected a whole number of at least 1000 (got "50")',
      ].join('\n'),
    );
  });
});
