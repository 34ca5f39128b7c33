export { startJobs } from './service.js';
export { jobsOptionsFromEnv } from './env-options.js';
export { resolveJobsOptions, type JobsServiceOptions, type ResolvedJobsOptions } from './options.js';
export { pollAgain, pollDelayMs, readWaitState, WaitState } from './wait.js';
export { describeJobFailure, notificationText } from './job-failure.js';
export {
  classifyJobFailure,
  triageJobFailure,
  withSources,
  retryFlags,
  type TriageInput,
  type TriageOptions,
} from './triage.js';
