export { buildGateway, type GatewayOptions } from './gateway.js';
export { startGateway, isLoopback, type RunningGateway, type StartGatewayOptions } from './start.js';
export { workersByQueue, queuesWithoutWorkers, type QueueWorkers } from './workers-seen.js';
export { runView, runRow, publicSpec, type RunView, type RunRow, type ExpiryView } from './run-view.js';
export {
  RetryOverridesSchema,
  toRestartOverrides,
  type RetryOverrides,
  type RetryOverridesForApi,
} from './retry-overrides.schema.js';
export { safeEqual } from './auth.js';
