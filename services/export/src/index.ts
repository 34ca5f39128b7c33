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
export { buildSummary, type RunSummary } from './finalize.processor.js';
export { writeResults, type JoinCounts } from './write-results.js';
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
export { publishOutput, type Published } from './publish-output.js';
export {
  NotifyEvent,
  NotifyFormat,
  formatNotice,
  isSlackWebhook,
  noticeBody,
  slackText,
  type NotifyBody,
} from './notify-notice.js';
export { NOTIFY_GROUP, startNotifyWatcher, type NotifyWatcher } from './notify-watch.js';
export { parseCsv } from './csv.js';
