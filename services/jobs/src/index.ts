export { startJobs } from './service.js';
export { jobsOptionsFromEnv } from './env-options.js';
export { resolveJobsOptions, type JobsServiceOptions, type ResolvedJobsOptions } from './options.js';
export { buildJobBody, jobDisplayName, notificationsUrl } from './job-body.js';
export {
  cancelRun,
  retryRun,
  removeRunJobs,
  type CancelResult,
  type RetryOverrides,
  type RetryResult,
} from './run-control.js';
export {
  createStageWorker,
  type ProcessorMap,
  type StageProcessor,
  type StageWorkerOptions,
} from './worker.js';
export {
  runStageJob,
  parsePayload,
  isLastAttempt,
  runErrorOf,
  failRunOnFinalJobFailure,
  type StageContext,
} from './stage-job.js';
export { pollAgain, pollDelayMs, readWaitState, formatDuration, WaitState } from './wait.js';
export { describeJobFailure, notificationText } from './job-failure.js';
export {
  classifyJobFailure,
  triageJobFailure,
  withSources,
  retryFlags,
  RemoteJobFailedError,
  type TriageInput,
  type TriageOptions,
} from './triage.js';
export {
  expiredStagedData,
  restageRun,
  restagedBatchId,
  restagedSpec,
  type RestageResult,
} from './restage.js';
export { expiryWarning, expiryWarningKey, warnIfExpiring, EXPIRY_WARNING_MS } from './expiry-watch.js';
