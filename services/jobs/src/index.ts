export { startJobs } from './service.js';
export { jobsService } from './definition.js';
export {
  JobsOptionsSchema,
  jobsOptionsFromEnv,
  resolveJobsOptions,
  type JobsServiceOptions,
  type ResolvedJobsOptions,
} from './options.js';
export { pollAgain, pollDelayMs, readWaitState, WaitState } from './wait.js';
export { describeJobFailure, explainJobFailure, notificationText } from './job-failure.js';
export { triageJobFailure, withSources, type TriageOptions } from './triage.js';
export { classifyJobFailure, type TriageInput } from './classify-failure.js';
export { retryFlags } from './restart-advice.js';
