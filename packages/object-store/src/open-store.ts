import { keyMatcher, parseBucketUrl, type BucketLocation } from '@rfbatch/shared';
import { LazyStore } from './lazy-store.js';
import type { ObjectStore, StoredObject } from './object-store.js';

/** Each vendor's store, its SDK imported on first use (lazy-store.ts). */
const LOAD: Record<BucketLocation['scheme'], (bucket: string) => Promise<ObjectStore>> = {
  s3: async (bucket) => new (await import('./s3-store.js')).S3Store(bucket),
  az: async (bucket) => new (await import('./azure-store.js')).AzureStore(bucket),
  gs: async (bucket) => new (await import('./gcs-store.js')).GcsStore(bucket),
};

const opened = new Map<string, ObjectStore>();

/**
 * The store of a bucket URL or location, one per bucket and process (clients keep their connections).
 * Credentials come from the environment only (see each store); a URL never carries any.
 */
export function openObjectStore(where: BucketLocation | string): ObjectStore {
  const location = typeof where === 'string' ? parseBucketUrl(where) : where;
  const id = `${location.scheme}://${location.bucket}`;
  let store = opened.get(id);
  if (!store) {
    const { scheme, bucket } = location;
    store = new LazyStore(scheme, bucket, () => LOAD[scheme](bucket));
    opened.set(id, store);
  }
  return store;
}

/** Forgets the opened stores (tests that change credentials between cases). */
export function forgetObjectStores(): void {
  opened.clear();
}

/** The objects a location names (its prefix, filtered by its glob), page by page, in key order. */
export async function* listLocation(
  store: ObjectStore,
  location: BucketLocation,
): AsyncGenerator<StoredObject> {
  const matches = keyMatcher(location);
  for await (const object of store.list(location.prefix)) if (matches(object.key)) yield object;
}

/** The text of the object `name` under the prefix URL `url`, or undefined when there is none. */
export async function readObjectText(url: string, name: string): Promise<string | undefined> {
  const location = parseBucketUrl(url, { allowGlob: false });
  const store = openObjectStore(location);
  const key = `${location.prefix}${name}`;
  if (!(await store.head(key))) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of await store.get(key)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
