export * from './submit.js';
export * from './run-control.js';
export * from './restage.js';
export * from './expiry-watch.js';
export * from './run-view.js';
export * from './workers-seen.js';
export * from './retry-overrides.schema.js';
export * from './recover.js';
