export { submitRun, enqueueIntake, type SubmitResult } from './submit.js';
export {
  startIngest,
  ingestRateLimiter,
  assertHandlers,
  ingestProcessors,
  runsProcessors,
} from './service.js';
export { ingestOptionsFromEnv, resolveIngestOptions, type IngestOptions } from './options.js';
export { planRun } from './planner.js';
export { PlanFile, PlanUnit, readPlanFile } from './plan-file.js';
export { remoteName, MAX_REMOTE_NAME_BYTES } from './remote-name.js';
export { scanDirectory, type ScanItem, type ScannedFile, type ScanOptions } from './scan.js';
export { tarSize, tarMemberBytes } from './tar-size.js';
export { packShard, type TarMember, type PackedShard } from './shard-pack.js';
export { webhookUrl } from './webhook.js';
export {
  preflight,
  remotePreflight,
  assertRemotePreflight,
  PreflightReport,
  PreflightIssue,
  PreflightCheck,
  PreflightPlan,
  SUGGESTED_MAX_VIDEOS_IN_BATCH,
  type PreflightOptions,
} from './preflight.js';
