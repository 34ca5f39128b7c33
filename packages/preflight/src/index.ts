export { preflight, type PreflightOptions } from './preflight.js';
export { assertRemotePreflight, remotePreflight } from './remote-checks.js';
export { SUGGESTED_MAX_VIDEOS_IN_BATCH } from './plan-checks.js';
export { PreflightCheck, PreflightIssue, PreflightPlan, PreflightReport } from './preflight-report.schema.js';
