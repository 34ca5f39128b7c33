export * from './object-store.js';
export * from './store-error.js';
export * from './open-store.js';
export { WorkMirror, workMirrorOf, regularFiles } from './work-mirror.js';
