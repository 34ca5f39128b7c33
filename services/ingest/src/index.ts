export { startIngest, ingestRateLimiter, ingestProcessors, runsProcessors } from './service.js';
export { ingestService } from './definition.js';
export {
  IngestOptionsSchema,
  ingestOptionsFromEnv,
  resolveIngestOptions,
  type IngestOptions,
} from './options.js';
export { planRun } from './planner.js';
export { remoteName, MAX_REMOTE_NAME_BYTES } from './remote-name.js';
export { scanDirectory, type ScanItem, type ScannedFile, type ScanOptions } from './scan.js';
export { tarSize, tarMemberBytes } from './tar-size.js';
export { packShard, type TarMember, type PackedShard } from './shard-pack.js';
