/** Reading an item's bytes out of its blob: whole (for image headers) or as a digest (for videos). */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

/** Open blob files kept at most; simple batches have one file per item. */
const MAX_OPEN_HANDLES = 16;

/** SHA-256 (hex) of bytes `[offset, offset + size)` of a file. */
export async function hashRange(path: string, offset: number, size: number): Promise<string> {
  const hash = createHash('sha256');
  if (size > 0)
    for await (const chunk of createReadStream(path, { start: offset, end: offset + size - 1 }))
      hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Keeps the blob file of a shard open across its items. */
export class HandleCache {
  private readonly handles = new Map<string, FileHandle>();

  /** Bytes `[offset, offset + size)` of a file (fewer when the file is shorter). */
  async read(path: string, offset: number, size: number): Promise<Buffer> {
    let handle = this.handles.get(path);
    if (!handle) {
      if (this.handles.size >= MAX_OPEN_HANDLES) await this.close();
      handle = await open(path, 'r');
      this.handles.set(path, handle);
    }
    const buf = Buffer.alloc(size);
    let done = 0;
    while (done < size) {
      const { bytesRead } = await handle.read(buf, done, size - done, offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done === size ? buf : buf.subarray(0, done);
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.handles.values()].map((h) => h.close()));
    this.handles.clear();
  }
}
