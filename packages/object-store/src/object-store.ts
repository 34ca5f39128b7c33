import type { Readable } from 'node:stream';
import type { BucketLocation } from '@rfbatch/shared';

/** One object as a listing or a HEAD reports it. */
export interface StoredObject {
  key: string;
  size: number;
  /** Milliseconds since the epoch, when the store reports it. */
  lastModified?: number;
  etag?: string;
}

/** A presigned GET: a secret (like a signed URL) and the moment it stops working. */
export interface PresignedGet {
  url: string;
  expiresAt: number;
}

/** What `put` writes: bytes in memory, or a stream (uploaded in parts when large). */
export type PutBody = Buffer | string | Readable;

/**
 * One bucket or container, through its vendor's SDK. Every operation is streamed (listings page by
 * page, bodies as streams) and every write is complete or absent: a reader never sees half an object.
 * Errors are `ObjectStoreError`s that say what was wrong and what to do, without credentials or URLs.
 */
export interface ObjectStore {
  readonly scheme: BucketLocation['scheme'];
  readonly bucket: string;
  /** `s3://bucket/key`, for messages. */
  describe(key?: string): string;
  /** Checks that the bucket exists and can be listed with the credentials at hand. */
  probe(): Promise<void>;
  /** Every object under `prefix`, page by page (never the whole listing in memory), in key order. */
  list(prefix: string, options?: { pageSize?: number }): AsyncGenerator<StoredObject>;
  /** The object's size, or undefined when it does not exist. */
  head(key: string): Promise<StoredObject | undefined>;
  /** The object's bytes, or those in `[start, end)`. */
  get(key: string, range?: { start: number; end: number }): Promise<Readable>;
  /** Writes the object whole (a multipart upload for large streams; aborted on failure). */
  put(key: string, body: PutBody, options?: { contentType?: string; size?: number }): Promise<void>;
  delete(key: string): Promise<void>;
  /** A GET URL that works without credentials for `ttlSeconds`. */
  presignGet(key: string, ttlSeconds: number): Promise<PresignedGet>;
}

/** A variable of `env`, with an empty value taken as unset (compose and CI often pass `VAR=`). */
export function setting(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

/**
 * The variables the stores read (each SDK's standard ones; the SDKs' default chains read more, such as
 * AWS_PROFILE files and instance roles). Documented in docs/operators.md, never put in a RunSpec.
 */
export const STORAGE_VARIABLES = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_S3',
  'AWS_S3_VIRTUAL_HOSTED_STYLE',
  'GOOGLE_APPLICATION_CREDENTIALS',
  'STORAGE_EMULATOR_HOST',
  'AZURE_STORAGE_CONNECTION_STRING',
  'AZURE_STORAGE_ACCOUNT',
  'AZURE_STORAGE_ACCOUNT_NAME',
  'AZURE_STORAGE_KEY',
  'AZURE_STORAGE_ACCOUNT_KEY',
  'AZURE_STORAGE_SAS_TOKEN',
  'AZURE_STORAGE_BLOB_ENDPOINT',
] as const;
