import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Storage, type Bucket } from '@google-cloud/storage';
import type { ObjectStore, PresignedGet, PutBody, StoredObject } from './object-store.js';
import { networkCodeOf, ObjectStoreError, sdkSummary, type StoreProblem } from './store-error.js';

/** V4 signed URLs live at most 7 days. */
const MAX_GCS_PRESIGN_SECONDS = 7 * 24 * 3600;
/** Streams above this go by resumable upload (finalised only when whole). */
const RESUMABLE_BYTES = 8 * 1024 * 1024;

function problemOf(error: unknown): StoreProblem {
  const e = error as { code?: number | string; message?: string };
  if (/default credentials|could not load the default|no credentials/i.test(e.message ?? ''))
    return 'no-credentials';
  if (e.code === 404) return /bucket/i.test(e.message ?? '') ? 'no-bucket' : 'not-found';
  if (e.code === 403 || e.code === 401) return 'access-denied';
  if (networkCodeOf(error)) return 'unreachable';
  return 'failed';
}

/**
 * Google Cloud Storage through `@google-cloud/storage` with Application Default Credentials
 * (GOOGLE_APPLICATION_CREDENTIALS, gcloud's login, a metadata server); STORAGE_EMULATOR_HOST is the
 * SDK's own way to point it at a local server.
 */
export class GcsStore implements ObjectStore {
  readonly scheme = 'gs' as const;
  private readonly handle: Bucket;
  constructor(
    readonly bucket: string,
    storage: Storage = new Storage(),
  ) {
    this.handle = storage.bucket(bucket);
  }

  describe(key = ''): string {
    return `gs://${this.bucket}/${key}`;
  }

  private fail(error: unknown, what: string, key?: string): never {
    const network = networkCodeOf(error);
    const e = error as { code?: unknown };
    const detail = network ?? (typeof e.code === 'number' ? `HTTP ${e.code}` : sdkSummary(error));
    throw new ObjectStoreError(problemOf(error), `${what} ${this.describe(key)} failed: ${detail}`, {
      cause: error,
    });
  }

  async probe(): Promise<void> {
    try {
      await this.handle.getFiles({ maxResults: 1, autoPaginate: false });
    } catch (error) {
      this.fail(error, 'listing');
    }
  }

  async *list(prefix: string, { pageSize = 1000 } = {}): AsyncGenerator<StoredObject> {
    let pageToken: string | undefined;
    do {
      let files, next;
      try {
        [files, next] = await this.handle.getFiles({
          prefix,
          maxResults: pageSize,
          autoPaginate: false,
          pageToken,
        });
      } catch (error) {
        this.fail(error, 'listing', prefix);
      }
      for (const f of files) {
        const updated = f.metadata.updated ? Date.parse(String(f.metadata.updated)) : NaN;
        yield {
          key: f.name,
          size: Number(f.metadata.size ?? 0),
          ...(Number.isFinite(updated) ? { lastModified: updated } : {}),
          ...(f.metadata.etag ? { etag: String(f.metadata.etag) } : {}),
        };
      }
      pageToken = (next as { pageToken?: string } | null | undefined)?.pageToken;
    } while (pageToken);
  }

  async head(key: string): Promise<StoredObject | undefined> {
    try {
      const [m] = await this.handle.file(key).getMetadata();
      return { key, size: Number(m.size ?? 0) };
    } catch (error) {
      if (problemOf(error) === 'not-found') return undefined;
      this.fail(error, 'reading', key);
    }
  }

  async get(key: string, range?: { start: number; end: number }): Promise<Readable> {
    if (range && range.end <= range.start) return Readable.from([]);
    // The SDK reports errors on the stream; the first read surfaces them.
    return this.handle
      .file(key)
      .createReadStream(range ? { start: range.start, end: range.end - 1, validation: false } : {});
  }

  async put(
    key: string,
    body: PutBody,
    options: { contentType?: string; size?: number } = {},
  ): Promise<void> {
    const file = this.handle.file(key);
    try {
      if (typeof body === 'string' || Buffer.isBuffer(body))
        await file.save(Buffer.from(body), { resumable: false, contentType: options.contentType });
      else
        await pipeline(
          body,
          file.createWriteStream({
            resumable: (options.size ?? Infinity) > RESUMABLE_BYTES,
            contentType: options.contentType,
          }),
        );
    } catch (error) {
      this.fail(error, 'writing', key);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.handle.file(key).delete({ ignoreNotFound: true });
    } catch (error) {
      this.fail(error, 'deleting', key);
    }
  }

  async presignGet(key: string, ttlSeconds: number): Promise<PresignedGet> {
    const expiresAt = Date.now() + Math.min(ttlSeconds, MAX_GCS_PRESIGN_SECONDS) * 1000;
    try {
      const [url] = await this.handle
        .file(key)
        .getSignedUrl({ version: 'v4', action: 'read', expires: expiresAt });
      return { url, expiresAt };
    } catch (error) {
      this.fail(error, 'presigning', key);
    }
  }
}
