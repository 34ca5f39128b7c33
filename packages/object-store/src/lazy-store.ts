import type { Readable } from 'node:stream';
import type { BucketLocation } from '@rfbatch/shared';
import type { ObjectStore, PresignedGet, PutBody, StoredObject } from './object-store.js';

/**
 * A store whose vendor SDK is loaded on its first operation. Each SDK costs a process 25–30 MB of RSS
 * when imported (the three together about 50 MB), and most processes touch no bucket, or one vendor's:
 * loading them at start-up put an idle ingest process at 130 MB. A load that fails (credentials the
 * environment gets wrong) is tried again by the next operation.
 */
export class LazyStore implements ObjectStore {
  private loading: Promise<ObjectStore> | undefined;
  constructor(
    readonly scheme: BucketLocation['scheme'],
    readonly bucket: string,
    private readonly load: () => Promise<ObjectStore>,
  ) {}

  private store(): Promise<ObjectStore> {
    this.loading ??= this.load().catch((error: unknown) => {
      this.loading = undefined;
      throw error;
    });
    return this.loading;
  }

  describe(key = ''): string {
    return `${this.scheme}://${this.bucket}/${key}`;
  }
  async probe(): Promise<void> {
    return (await this.store()).probe();
  }
  async *list(prefix: string, options?: { pageSize?: number }): AsyncGenerator<StoredObject> {
    yield* (await this.store()).list(prefix, options);
  }
  async head(key: string): Promise<StoredObject | undefined> {
    return (await this.store()).head(key);
  }
  async get(key: string, range?: { start: number; end: number }): Promise<Readable> {
    return (await this.store()).get(key, range);
  }
  async put(key: string, body: PutBody, options?: { contentType?: string; size?: number }): Promise<void> {
    return (await this.store()).put(key, body, options);
  }
  async delete(key: string): Promise<void> {
    return (await this.store()).delete(key);
  }
  async presignGet(key: string, ttlSeconds: number): Promise<PresignedGet> {
    return (await this.store()).presignGet(key, ttlSeconds);
  }
}
