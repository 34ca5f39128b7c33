export * from './stage-job.js';
export * from './stage-worker.js';
