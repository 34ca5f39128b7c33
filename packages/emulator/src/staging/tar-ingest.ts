/**
 * Streams an uploaded tar through tar-stream into one blob file per shard (entry bytes back to back,
 * headers dropped), recording each image's offset and size. Nothing is held whole in memory. Non-image
 * entries become failed files; `notification_config.json` is read (not stored) for its webhook.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { extname, posix } from 'node:path';
import { Writable } from 'node:stream';
import tar from 'tar-stream';
import { looksLikeImage } from '../image-header.js';
import type { FailedFile, ItemRecord } from '../store.js';

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.bmp', '.jp2', '.gif', '.tif', '.tiff']);
export const MAX_IMAGE_BYTES = 20 * 1024 * 1024;
const NOTIFICATION_CONFIG = 'notification_config.json';

interface NotificationConfig {
  ingestId: string | null;
  notificationsURL: string | null;
}

export interface TarIngestResult {
  items: ItemRecord[];
  failed: FailedFile[];
  notificationConfig: NotificationConfig | null;
  /** Set when the bytes are not a readable tar (the shard then ends in an error status). */
  parseError: string | null;
  sizeBytes: number;
}

const MIME_TYPES: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.bmp': 'image/bmp',
  '.gif': 'image/gif',
  '.jp2': 'image/jp2',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.mp4': 'video/mp4',
  '.mov': 'video/quicktime',
  '.avi': 'video/x-msvideo',
  '.mkv': 'video/x-matroska',
  '.jsonl': 'application/jsonl',
  '.csv': 'text/csv',
  '.gz': 'application/gzip',
};

export function mimeOf(fileName: string): string {
  return MIME_TYPES[extname(fileName).toLowerCase()] ?? 'application/octet-stream';
}

/** Strips `./` and leading slashes; the stored name is the entry's path inside the archive. */
function entryName(raw: string): string {
  return posix
    .normalize(raw.replace(/\\/g, '/'))
    .replace(/^(\.\/)+/, '')
    .replace(/^\/+/, '');
}

/**
 * A Writable to pipe the upload into, and the result once it finished (never rejects: a broken
 * archive is reported in `parseError`, an aborted upload as `parseError` too).
 */
export function createTarIngest(opts: { blobAbs: string; blobRel: string; shardId: string }): {
  sink: Writable;
  result: Promise<TarIngestResult>;
} {
  const extract = tar.extract();
  const out = createWriteStream(opts.blobAbs);
  const items: ItemRecord[] = [];
  const failed: FailedFile[] = [];
  let notificationConfig: NotificationConfig | null = null;
  let parseError: string | null = null;
  let offset = 0;
  let pendingWrite: (() => void) | null = null;

  const consume = (async () => {
    for await (const entry of extract) {
      const header = entry.header;
      const name = entryName(header.name);
      if (header.type === 'directory') {
        entry.resume();
        continue;
      }
      if (header.type !== 'file' && header.type !== 'contiguous-file') {
        failed.push({
          type: 'unsupported-entry',
          file_name: name,
          reason: `tar entry of type ${header.type ?? 'unknown'} is not a file`,
        });
        entry.resume();
        continue;
      }
      const size = header.size ?? 0;
      if (name === NOTIFICATION_CONFIG) {
        const chunks: Buffer[] = [];
        for await (const chunk of entry) if (size <= 65_536) chunks.push(chunk as Buffer);
        notificationConfig = parseNotificationConfig(Buffer.concat(chunks));
        continue;
      }
      if (size > MAX_IMAGE_BYTES) {
        failed.push({
          type: 'file-size-limit-exceeded',
          file_name: name,
          reason: `${size} bytes is more than the ${MAX_IMAGE_BYTES} allowed`,
        });
        entry.resume();
        continue;
      }
      const start = offset;
      let head = Buffer.alloc(0);
      for await (const raw of entry) {
        const chunk = raw as Buffer;
        if (head.length < 64) head = Buffer.concat([head, chunk.subarray(0, 64 - head.length)]);
        offset += chunk.length;
        if (!out.write(chunk)) await once(out, 'drain');
      }
      if (IMAGE_EXTENSIONS.has(extname(name).toLowerCase()) || looksLikeImage(head)) {
        items.push({
          fileName: name,
          contentType: mimeOf(name),
          kind: 'image',
          sizeBytes: size,
          blob: opts.blobRel,
          offset: start,
          shardId: opts.shardId,
        });
      } else {
        failed.push({
          type: 'unsupported-file-type',
          file_name: name,
          reason: 'not an image (extension and content unknown)',
        });
      }
    }
  })().catch((err: unknown) => {
    parseError = err instanceof Error ? err.message : String(err);
    extract.destroy();
  });

  const releasePending = () => {
    const cb = pendingWrite;
    pendingWrite = null;
    cb?.();
  };
  extract.on('drain', releasePending);
  void consume.finally(releasePending);

  const sink = new Writable({
    write(chunk: Buffer, _enc, callback) {
      if (parseError !== null || extract.destroyed) return callback();
      if (extract.write(chunk)) return callback();
      pendingWrite = () => callback();
    },
    final(callback) {
      if (parseError === null && !extract.destroyed) extract.end(undefined);
      void consume.then(() => callback());
    },
    destroy(err, callback) {
      if (!extract.destroyed) extract.destroy(err ?? new Error('upload aborted'));
      callback(err);
    },
  });

  const result = consume.then(async () => {
    out.end();
    await once(out, 'close').catch(() => undefined);
    return { items, failed, notificationConfig, parseError, sizeBytes: offset };
  });
  return { sink, result };
}

function parseNotificationConfig(buf: Buffer): NotificationConfig | null {
  try {
    const value = JSON.parse(buf.toString('utf8')) as Record<string, unknown>;
    return {
      ingestId: typeof value.ingestId === 'string' ? value.ingestId : null,
      notificationsURL: typeof value.notificationsURL === 'string' ? value.notificationsURL : null,
    };
  } catch {
    return null;
  }
}
