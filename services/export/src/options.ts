import type { DownloadToFile, ServiceOptions } from '@rfbatch/shared';
import { DEFAULT_EXTRACT_LIMITS, type ExtractLimits } from './safe-extract.js';

/** Options of the export service (collect, download, finalize). */
export interface ExportServiceOptions extends ServiceOptions {
  /** Files listed per download job. @defaultValue 20 */
  filesPerJob?: number;
  /** Files downloaded at once inside one download job. @defaultValue 4 */
  downloadConcurrency?: number;
  /** Tries per file for transient failures (resets, 5xx, a short body) inside one job. @defaultValue 4 */
  fileAttempts?: number;
  /** Fresh listings fetched for one file whose signed URL was refused (expired). @defaultValue 3 */
  relistAttempts?: number;
  /** First pause between two tries of a file; doubles each time. @defaultValue 500 */
  retryDelayMs?: number;
  /** Per-transfer silence timeout. @defaultValue 120_000 */
  transferTimeoutMs?: number;
  /** Limits on what one archive may expand to. */
  extractLimits?: Partial<ExtractLimits>;
  /** How long a listing's signed URLs are reused within this process before listing again. @defaultValue 300_000 */
  urlCacheMs?: number;
  /** Tries of the POST to the run's `notify` URL. @defaultValue 4 */
  notifyAttempts?: number;
  /** Per-try timeout of that POST. @defaultValue 10_000 */
  notifyTimeoutMs?: number;
  /** The download helper (a test may wrap it). @defaultValue downloadToFile of @rfbatch/shared */
  downloadToFile?: DownloadToFile;
  /** BullMQ lock of an active job; a killed worker's job is taken over after about this long. @defaultValue 30_000 */
  lockDurationMs?: number;
  /** How often the worker looks for stalled jobs. @defaultValue lockDurationMs */
  stalledIntervalMs?: number;
}

export type ResolvedExportOptions = Required<
  Omit<ExportServiceOptions, 'extractLimits' | 'downloadToFile'>
> & {
  extractLimits: ExtractLimits;
  downloadToFile: DownloadToFile | undefined;
};

export function resolveExportOptions(options: ExportServiceOptions = {}): ResolvedExportOptions {
  const lockDurationMs = options.lockDurationMs ?? 30_000;
  return {
    concurrency: options.concurrency ?? 4,
    filesPerJob: options.filesPerJob ?? 20,
    downloadConcurrency: options.downloadConcurrency ?? 4,
    fileAttempts: options.fileAttempts ?? 4,
    relistAttempts: options.relistAttempts ?? 3,
    retryDelayMs: options.retryDelayMs ?? 500,
    transferTimeoutMs: options.transferTimeoutMs ?? 120_000,
    extractLimits: { ...DEFAULT_EXTRACT_LIMITS, ...options.extractLimits },
    urlCacheMs: options.urlCacheMs ?? 300_000,
    notifyAttempts: options.notifyAttempts ?? 4,
    notifyTimeoutMs: options.notifyTimeoutMs ?? 10_000,
    downloadToFile: options.downloadToFile,
    lockDurationMs,
    stalledIntervalMs: options.stalledIntervalMs ?? lockDurationMs,
  };
}
