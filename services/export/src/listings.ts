import { ErrorCode, RfbatchError, type FileMetadata, type RoboflowClient } from '@rfbatch/shared';

interface Listing {
  at: number;
  urls: Map<string, string>;
}

function fileKey(fileName: string, shardId: string | null | undefined): string {
  return `${fileName}\u0000${shardId ?? ''}`;
}

/**
 * Signed download URLs, held only in this process's memory for a short while (they are secrets and
 * they expire): never written to Redis, job data or files. A download asks for a file's URL; a
 * refused URL asks again with `fresh`, which lists the part once more. Concurrent listings of the
 * same part are shared.
 */
export class Listings {
  private readonly cache = new Map<string, Listing>();
  private readonly inflight = new Map<string, Promise<Listing>>();

  constructor(
    private readonly client: RoboflowClient,
    private readonly ttlMs: number,
  ) {}

  private static key(batchId: string, partName: string | null): string {
    return `${batchId}\u0000${partName ?? ''}`;
  }

  /** Keeps the URLs of a listing collect has just made, so downloads in this process need not list again. */
  remember(batchId: string, partName: string | null, files: FileMetadata[]): void {
    const key = Listings.key(batchId, partName);
    const listing = this.cache.get(key) ?? { at: Date.now(), urls: new Map<string, string>() };
    for (const f of files) listing.urls.set(fileKey(f.fileName, f.shardId), f.downloadURL);
    this.cache.set(key, listing);
  }

  /** The current signed URL of a listed file; `fresh` lists the part again first. */
  async urlFor(
    file: { batchId: string; partName: string | null; fileName: string; shardId: string | null },
    fresh = false,
  ): Promise<string> {
    const key = Listings.key(file.batchId, file.partName);
    let listing = this.cache.get(key);
    if (
      fresh ||
      !listing ||
      Date.now() - listing.at > this.ttlMs ||
      !listing.urls.has(fileKey(file.fileName, file.shardId))
    ) {
      listing = await this.relist(key, file.batchId, file.partName, fresh ? Date.now() : 0);
    }
    const url = listing.urls.get(fileKey(file.fileName, file.shardId));
    if (!url) {
      const where = file.partName
        ? `part "${file.partName}" of batch "${file.batchId}"`
        : `batch "${file.batchId}"`;
      throw new RfbatchError(ErrorCode.download, `file "${file.fileName}" is no longer listed in ${where}`, {
        hint: 'the output batch changed or expired (outputs expire 7 days after the job); restart the job to produce them again',
      });
    }
    return url;
  }

  /** Lists a part (or a whole simple batch) again; a listing newer than `notBefore` is reused. */
  private async relist(
    key: string,
    batchId: string,
    partName: string | null,
    notBefore: number,
  ): Promise<Listing> {
    const running = this.inflight.get(key);
    if (running) {
      const listing = await running;
      if (listing.at >= notBefore) return listing;
    }
    const started = Date.now();
    const promise = (async () => {
      const urls = new Map<string, string>();
      for await (const f of this.client.listFiles(batchId, partName ? { partName } : {})) {
        urls.set(fileKey(f.fileName, f.shardId), f.downloadURL);
      }
      const listing = { at: started, urls };
      this.cache.set(key, listing);
      return listing;
    })();
    this.inflight.set(key, promise);
    try {
      return await promise;
    } finally {
      if (this.inflight.get(key) === promise) this.inflight.delete(key);
    }
  }
}
