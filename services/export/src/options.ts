import { z } from 'zod';
import {
  decimal,
  serviceOptions,
  RANGE_DEFAULTS,
  wholeNumber,
  type Deprecation,
  type DownloadToFile,
  type StreamDownload,
  type EnvSource,
  type OptionsOf,
} from '@rfbatch/shared';
import { NotifyFormat } from './notify-notice.js';
import { DEFAULT_EXTRACT_LIMITS, ExtractSync, type ExtractLimits } from './safe-extract.js';

/**
 * Options of the export service (collect, download, finalize): defaults, descriptions and
 * variables (`RFBATCH_EXPORT_<FIELD>`) in one place.
 */
export const ExportOptionsSchema = serviceOptions(
  'export',
  z.object({
    concurrency: wholeNumber(1).default(4).describe('export jobs (collect, download, finalize) at once'),
    filesPerJob: wholeNumber(1).default(20).describe('files listed per download job'),
    downloadConcurrency: wholeNumber(1)
      .default(16)
      .describe(
        'files downloaded at once inside one download job (each its own stream: a capped link needs many)',
      ),
    rangeConnections: wholeNumber(1)
      .default(4)
      .describe(
        'ranged GETs at once for one large file (1 = one stream per file): fills a link that caps each connection',
      ),
    rangeMinBytes: wholeNumber(0)
      .default(RANGE_DEFAULTS.minBytes)
      .describe('files smaller than this are fetched over one stream'),
    rangePartBytes: wholeNumber(64 * 1024)
      .default(RANGE_DEFAULTS.partBytes)
      .describe('largest part one ranged GET asks for (a file is split in about rangeConnections parts)'),
    downloadConnections: wholeNumber(1)
      .default(64)
      .describe(
        "connections one export process holds for downloads: each file's first waits for one, extra ranged GETs only take a free one",
      ),
    fileAttempts: wholeNumber(1)
      .default(4)
      .describe('tries per file for transient failures (resets, 5xx, a short body) inside one job'),
    relistAttempts: wholeNumber(0)
      .default(3)
      .describe('fresh listings fetched for one file whose signed URL was refused (expired)'),
    retryDelayMs: wholeNumber(0)
      .default(500)
      .describe('first pause between two tries of a file; doubles each time'),
    transferTimeoutMs: wholeNumber(1_000).default(120_000).describe('per-transfer silence timeout'),
    extractMaxBytes: wholeNumber(1)
      .default(DEFAULT_EXTRACT_LIMITS.maxTotalBytes)
      .describe('most bytes one archive may expand to'),
    extractMaxRatio: decimal(1)
      .default(DEFAULT_EXTRACT_LIMITS.maxRatio)
      .describe('most bytes per byte of archive (a decompression bomb expands far more)'),
    extractSync: ExtractSync.default('filesystem').describe(
      'how an extracted archive is made durable before its rename: `filesystem` (one syncfs per archive), `files` (one fsync per file), `none` (left to the OS)',
    ),
    urlCacheMs: wholeNumber(0)
      .default(300_000)
      .describe("how long a listing's signed URLs are reused within this process before listing again"),
    notifyAttempts: wholeNumber(1).default(4).describe("tries of the POST to the run's `notify` URL"),
    notifyTimeoutMs: wholeNumber(100).default(10_000).describe('per-try timeout of that POST'),
    notifyFormat: NotifyFormat.default('auto').describe(
      'body of the notify POST: `json`, `slack` (`{ text }`), or `auto` (slack for hooks.slack.com)',
    ),
    lockDurationMs: wholeNumber(1_000)
      .default(30_000)
      .describe("BullMQ lock of an active job; a killed worker's job is taken over after about this long"),
    stalledIntervalMs: wholeNumber(1_000).optional().meta({
      description: 'how often the worker looks for stalled jobs',
      defaultText: 'the lock duration',
    }),
  }),
  {
    downloadConcurrency: ['RFBATCH_DOWNLOAD_CONCURRENCY'],
    filesPerJob: ['RFBATCH_DOWNLOAD_FILES_PER_JOB'],
    extractMaxBytes: ['RFBATCH_EXTRACT_MAX_BYTES'],
    extractMaxRatio: ['RFBATCH_EXTRACT_MAX_RATIO'],
    lockDurationMs: ['RFBATCH_LOCK_DURATION_MS'],
  },
);

export type ExportServiceOptions = OptionsOf<typeof ExportOptionsSchema> & {
  /** Every limit on what one archive may expand to; wins over extractMaxBytes/extractMaxRatio. */
  extractLimits?: Partial<ExtractLimits>;
  /** The download helper (a test may wrap it). @defaultValue downloadToFile of @rfbatch/shared */
  downloadToFile?: DownloadToFile;
  /** The streamed download archives are extracted from (a test may wrap it). @defaultValue streamDownload of @rfbatch/shared */
  streamDownload?: StreamDownload;
};

export type ResolvedExportOptions = Required<
  Omit<OptionsOf<typeof ExportOptionsSchema>, 'extractMaxBytes' | 'extractMaxRatio'>
> & {
  extractLimits: ExtractLimits;
  downloadToFile: DownloadToFile | undefined;
  streamDownload: StreamDownload | undefined;
};

export function resolveExportOptions(options: ExportServiceOptions = {}): ResolvedExportOptions {
  const { extractMaxBytes, extractMaxRatio, ...resolved } = ExportOptionsSchema.withDefaults(options);
  return {
    ...resolved,
    stalledIntervalMs: resolved.stalledIntervalMs ?? resolved.lockDurationMs,
    extractLimits: {
      ...DEFAULT_EXTRACT_LIMITS,
      maxTotalBytes: extractMaxBytes,
      maxRatio: extractMaxRatio,
      ...options.extractLimits,
    },
    downloadToFile: options.downloadToFile,
    streamDownload: options.streamDownload,
  };
}

/** The export options the environment sets; every bad variable is listed in one error. */
export function exportOptionsFromEnv(
  env: EnvSource = process.env,
  onDeprecated?: (d: Deprecation) => void,
): ExportServiceOptions {
  return ExportOptionsSchema.fromEnv(env, onDeprecated);
}
