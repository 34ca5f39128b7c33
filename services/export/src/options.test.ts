import { describe, expect, it } from 'vitest';
import { ConfigError, describeDeprecation, type Deprecation } from '@rfbatch/shared';
import { exportOptionsFromEnv, resolveExportOptions } from './options.js';
import { DEFAULT_EXTRACT_LIMITS } from './safe-extract.js';

describe('the export options schema', () => {
  it('has the defaults of the export service', () => {
    expect(resolveExportOptions()).toEqual({
      concurrency: 4,
      filesPerJob: 20,
      downloadConcurrency: 16,
      rangeConnections: 4,
      rangeMinBytes: 1024 * 1024,
      rangePartBytes: 8 * 1024 * 1024,
      downloadConnections: 64,
      fileAttempts: 4,
      relistAttempts: 3,
      retryDelayMs: 500,
      transferTimeoutMs: 120_000,
      extractLimits: DEFAULT_EXTRACT_LIMITS,
      extractSync: 'filesystem',
      urlCacheMs: 300_000,
      notifyAttempts: 4,
      notifyTimeoutMs: 10_000,
      notifyFormat: 'auto',
      downloadToFile: undefined,
      streamDownload: undefined,
      lockDurationMs: 30_000,
      stalledIntervalMs: 30_000,
    });
    // Every extract limit can be given; the two the environment sets map onto them.
    expect(
      resolveExportOptions({ extractMaxRatio: 50, extractLimits: { maxEntries: 10 } }).extractLimits,
    ).toEqual({ ...DEFAULT_EXTRACT_LIMITS, maxRatio: 50, maxEntries: 10 });
  });

  it('reads RFBATCH_EXPORT_* and still the old names, with a warning naming the new one', () => {
    const seen: Deprecation[] = [];
    const options = exportOptionsFromEnv(
      {
        RFBATCH_EXPORT_CONCURRENCY: '3',
        RFBATCH_DOWNLOAD_CONCURRENCY: '6',
        RFBATCH_DOWNLOAD_FILES_PER_JOB: '7',
        RFBATCH_EXTRACT_MAX_BYTES: '1000000',
        RFBATCH_EXTRACT_MAX_RATIO: '12.5',
        RFBATCH_LOCK_DURATION_MS: '2000',
      },
      (d) => seen.push(d),
    );
    expect(options).toEqual({
      concurrency: 3,
      downloadConcurrency: 6,
      filesPerJob: 7,
      extractMaxBytes: 1_000_000,
      extractMaxRatio: 12.5,
      lockDurationMs: 2_000,
    });
    expect(resolveExportOptions(options).extractLimits).toMatchObject({
      maxTotalBytes: 1_000_000,
      maxRatio: 12.5,
    });
    expect(seen.map(describeDeprecation)).toEqual([
      'RFBATCH_DOWNLOAD_FILES_PER_JOB is deprecated: use RFBATCH_EXPORT_FILES_PER_JOB',
      'RFBATCH_DOWNLOAD_CONCURRENCY is deprecated: use RFBATCH_EXPORT_DOWNLOAD_CONCURRENCY',
      'RFBATCH_EXTRACT_MAX_BYTES is deprecated: use RFBATCH_EXPORT_EXTRACT_MAX_BYTES',
      'RFBATCH_EXTRACT_MAX_RATIO is deprecated: use RFBATCH_EXPORT_EXTRACT_MAX_RATIO',
      'RFBATCH_LOCK_DURATION_MS is deprecated: use RFBATCH_EXPORT_LOCK_DURATION_MS',
    ]);
  });

  it('reads the ranged-download options from RFBATCH_EXPORT_*', () => {
    expect(
      exportOptionsFromEnv({
        RFBATCH_EXPORT_RANGE_CONNECTIONS: '1',
        RFBATCH_EXPORT_RANGE_MIN_BYTES: '0',
        RFBATCH_EXPORT_RANGE_PART_BYTES: '1048576',
        RFBATCH_EXPORT_DOWNLOAD_CONNECTIONS: '8',
      }),
    ).toEqual({ rangeConnections: 1, rangeMinBytes: 0, rangePartBytes: 1_048_576, downloadConnections: 8 });
    expect(() => exportOptionsFromEnv({ RFBATCH_EXPORT_RANGE_PART_BYTES: '100' })).toThrow(
      /RFBATCH_EXPORT_RANGE_PART_BYTES: expected a whole number of at least 65536/,
    );
  });

  it('lists every bad variable with its value and what it expects', () => {
    let message = '';
    try {
      exportOptionsFromEnv({ RFBATCH_EXPORT_EXTRACT_MAX_RATIO: '0.5', RFBATCH_DOWNLOAD_CONCURRENCY: 'many' });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as ConfigError).message;
    }
    expect(message).toBe(
      [
        'invalid configuration:',
        '  RFBATCH_DOWNLOAD_CONCURRENCY: expected a whole number of at least 1 (got "many")',
        '  RFBATCH_EXPORT_EXTRACT_MAX_RATIO: expected a number of at least 1 (got "0.5")',
      ].join('\n'),
    );
  });
});
