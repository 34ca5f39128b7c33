/**
 * The vendors' stores themselves, for code that builds one with its own client (tests against local
 * servers). Everything else opens stores with `openObjectStore`, which loads an SDK only when used.
 */
export { S3Store, s3ClientFromEnv } from './s3-store.js';
export { AzureStore, azureAccessFromEnv } from './azure-store.js';
export { GcsStore } from './gcs-store.js';
export { s3KeyPresigner } from './s3-presign.js';
