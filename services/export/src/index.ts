export { startExport } from './service.js';
export { exportService } from './definition.js';
export {
  ExportOptionsSchema,
  exportOptionsFromEnv,
  resolveExportOptions,
  type ExportServiceOptions,
  type ResolvedExportOptions,
} from './options.js';
export {
  safeExtract,
  safeEntryPath,
  UnsafeArchiveError,
  DEFAULT_EXTRACT_LIMITS,
  type ExtractLimits,
  type ExtractResult,
} from './safe-extract.js';
export { DownloadEntry, exportPaths, localNameOf, downloadDoneKey, type ExportPaths } from './downloads.js';
export { writeResults, buildSummary, type JoinCounts, type RunSummary } from './finalize.processor.js';
export {
  joinEntry,
  recordName,
  recordError,
  readRecords,
  type ResultLine,
  type ResultStatus,
  type ResultRecord,
} from './results-join.js';
export { postSummary, type NotifyOutcome } from './notify.js';
export { parseCsv } from './csv.js';
