export { advance, type Advance, type HandOffJob } from './advance.js';
export {
  defineProcessor,
  type ExactProcessorMap,
  type JobContext,
  type Processor,
  type ProcessorContext,
  type ProcessorMap,
  type ProcessorOptions,
  type RunContext,
  type SkipPolicy,
} from './processor.js';
export { parseJob, type ParsedJob } from './parse-job.js';
export { isLastAttempt } from './last-attempt.js';
export { runErrorOf } from './run-error.js';
export { MAX_RATE_LIMIT_BOUNCES, queueRateLimiter, type QueueRateLimiter } from './rate-limit.js';
export {
  assertProcessors,
  createStageWorker,
  startStageService,
  type StageWorkerOptions,
} from './stage-worker.js';
