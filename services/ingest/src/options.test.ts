import { describe, expect, it } from 'vitest';
import { ConfigError, type Deprecation } from '@rfbatch/shared';
import { IngestOptionsSchema, ingestOptionsFromEnv, resolveIngestOptions } from './options.js';

describe('the ingest options schema', () => {
  it('has the defaults of the ingest service', () => {
    expect(resolveIngestOptions()).toEqual({
      concurrency: 32,
      runsConcurrency: 2,
      filesConcurrency: undefined,
      sharedUploads: undefined,
      uploadTries: 3,
      lockDurationMs: 30_000,
      stalledIntervalMs: 30_000,
    });
  });

  it('reads RFBATCH_INGEST_* (its names were already the consistent ones: nothing is deprecated)', () => {
    const seen: Deprecation[] = [];
    expect(
      ingestOptionsFromEnv(
        {
          RFBATCH_INGEST_CONCURRENCY: '16',
          RFBATCH_INGEST_RUNS_CONCURRENCY: '3',
          RFBATCH_INGEST_FILES_CONCURRENCY: '5',
          RFBATCH_INGEST_SHARED_UPLOADS: '24',
          RFBATCH_INGEST_UPLOAD_TRIES: '2',
          RFBATCH_INGEST_LOCK_DURATION_MS: '2000',
          RFBATCH_INGEST_STALLED_INTERVAL_MS: '1000',
          // The jobs and export services' old shared name is not the ingest service's.
          RFBATCH_LOCK_DURATION_MS: '9000',
        },
        (d) => seen.push(d),
      ),
    ).toEqual({
      concurrency: 16,
      runsConcurrency: 3,
      filesConcurrency: 5,
      sharedUploads: 24,
      uploadTries: 2,
      lockDurationMs: 2_000,
      stalledIntervalMs: 1_000,
    });
    expect(seen).toEqual([]);
    expect(IngestOptionsSchema.variables.flatMap((v) => v.formerly)).toEqual([]);
  });

  it('lists every bad variable with its value and what it expects', () => {
    let message = '';
    try {
      ingestOptionsFromEnv({ RFBATCH_INGEST_CONCURRENCY: '1000', RFBATCH_INGEST_UPLOAD_TRIES: 'x' });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as ConfigError).message;
    }
    expect(message).toBe(
      [
        'invalid configuration:',
        '  RFBATCH_INGEST_CONCURRENCY: expected a whole number from 1 to 256 (got "1000")',
        '  RFBATCH_INGEST_UPLOAD_TRIES: expected a whole number from 1 to 20 (got "x")',
      ].join('\n'),
    );
  });
});
