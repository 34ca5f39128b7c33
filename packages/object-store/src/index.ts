export * from './object-store.js';
export * from './store-error.js';
export * from './open-store.js';
export { WorkMirror, workMirrorOf, regularFiles } from './work-mirror.js';
export { S3Store, s3ClientFromEnv, MAX_S3_PRESIGN_SECONDS } from './s3-store.js';
export { AzureStore, azureAccessFromEnv } from './azure-store.js';
export { GcsStore } from './gcs-store.js';
