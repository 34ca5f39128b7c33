import {
  eachLimited,
  MAX_IMAGE_BYTES,
  type ManifestEntry,
  type Reference,
  parseBucketUrl,
  type BucketLocation,
  type MediaKind,
  type SkippedEntry,
  type Source,
} from '@rfbatch/shared';
import { listLocation, openObjectStore, type ObjectStore, type StoredObject } from '@rfbatch/object-store';
import { allowedExtensions } from './media-type.js';
import { extensionOf } from './remote-name.js';

export type BucketSource = Extract<Source, { kind: 'bucket' }>;

/** The bucket of a source, opened with the worker's own credentials (one client per bucket and process). */
export function openBucketSource(source: BucketSource): { location: BucketLocation; store: ObjectStore } {
  const location = parseBucketUrl(source.url);
  return { location, store: openObjectStore(location) };
}

/** The store that holds a planned item's object, from the plan's root (`s3://bucket/`). */
export function storeOfRoot(root: string): ObjectStore {
  return openObjectStore(parseBucketUrl(root, { allowGlob: false }));
}

/** `s3://bucket/`: where a bucket plan's sources (full object keys) are found. */
export function bucketRoot(location: BucketLocation): string {
  return `${location.scheme}://${location.bucket}/`;
}

/** Presigns run at most this many at once (local signing for S3 and SAS; a call each for GCS). */
const PRESIGN_CONCURRENCY = 32;

/**
 * One presigned GET per entry (its full object key is its `source`), named by its unique remote name.
 * The URLs are credentials: they go only into the ingest request. `expiresAt` is the earliest expiry.
 */
export async function presignReferences(
  store: ObjectStore,
  entries: readonly ManifestEntry[],
  ttlSeconds: number,
): Promise<{ references: Reference[]; expiresAt: number }> {
  const references: Reference[] = new Array(entries.length);
  let expiresAt = Number.POSITIVE_INFINITY;
  await eachLimited(entries, PRESIGN_CONCURRENCY, async (entry, k) => {
    const signed = await store.presignGet(entry.source, ttlSeconds);
    references[k] = { name: entry.name, url: signed.url };
    expiresAt = Math.min(expiresAt, signed.expiresAt);
  });
  return { references, expiresAt };
}

export type BucketItem = { type: 'object'; object: StoredObject } | { type: 'skipped'; entry: SkippedEntry };

/**
 * The objects a bucket source names, as a stream (the listing is paged, never held whole): each kept
 * object, or why it is left out (extension, empty, over the image limit). A bucket that does not exist
 * or cannot be listed fails here, before anything is staged.
 */
export async function* scanBucket(
  store: ObjectStore,
  location: BucketLocation,
  options: { media: MediaKind; include?: readonly string[] | undefined; maxImageBytes?: number },
): AsyncGenerator<BucketItem> {
  const allowed = allowedExtensions(options.media, options.include);
  const maxImageBytes = options.maxImageBytes ?? MAX_IMAGE_BYTES;
  await store.probe();
  for await (const object of listLocation(store, location)) {
    // "Folders" made by consoles are empty keys ending in "/": not objects anyone meant to process.
    if (object.key.endsWith('/')) continue;
    const skip = (reason: SkippedEntry['reason'], detail: string): BucketItem => ({
      type: 'skipped',
      entry: { source: object.key, reason, detail },
    });
    const ext = extensionOf(object.key);
    if (!allowed.has(ext))
      yield skip('not-media', ext ? `.${ext} is not a kept ${options.media} extension` : 'no file extension');
    else if (object.size === 0) yield skip('empty', '0 bytes');
    else if (options.media === 'images' && object.size > maxImageBytes)
      yield skip('too-large', `${object.size} bytes, over the ${maxImageBytes}-byte limit for one image`);
    else yield { type: 'object', object };
  }
}
