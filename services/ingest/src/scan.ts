import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { opendir, stat } from 'node:fs/promises';
import type { Dir, Dirent, Stats } from 'node:fs';
import { join, resolve } from 'node:path';
import { ErrorCode, MAX_IMAGE_BYTES, RfbatchError, type MediaKind, type SkippedEntry } from '@rfbatch/shared';
import { allowedExtensions, contentMismatch, SNIFF_BYTES } from './media-type.js';
import { extensionOf } from './remote-name.js';

export interface ScanOptions {
  media: MediaKind;
  /** Descend into sub-folders. @defaultValue true */
  recursive?: boolean;
  /** Extensions to keep (case-insensitive); defaults to every supported one of `media`. */
  include?: readonly string[];
  /** Largest image kept. @defaultValue MAX_IMAGE_BYTES (20 MiB) */
  maxImageBytes?: number;
}

/** A media file found under the root: `source` is its path relative to the root, with `/` separators. */
export interface ScannedFile {
  type: 'file';
  source: string;
  path: string;
  size: number;
  mtimeMs: number;
}
export type ScanItem = ScannedFile | { type: 'skipped'; entry: SkippedEntry };

interface PendingDir {
  abs: string;
  rel: string;
  /** dev:ino of this folder and every folder above it, to recognise a link back up the tree. */
  chain: string[];
}

/** Folder entries examined between two turns of the event loop. */
const BATCH = 128;

const HINT =
  'give a folder the ingest workers can read (on shared storage when workers run on several hosts)';

/**
 * Walks `root` as a stream: folders are read entry by entry (never listed whole) and only the folders
 * still to visit are remembered, so a tree of millions of files costs O(folders) memory. Yields every
 * kept media file and every skipped file with its reason; symlinks are followed, loops reported.
 * Throws (non-retryable) only when the root itself is missing or unreadable.
 */
export async function* scanDirectory(root: string, options: ScanOptions): AsyncGenerator<ScanItem> {
  const absRoot = resolve(root);
  const rootStat = await statRoot(root, absRoot);
  const allowed = allowedExtensions(options.media, options.include);
  const maxImageBytes = options.maxImageBytes ?? MAX_IMAGE_BYTES;
  const recursive = options.recursive ?? true;
  const rootId = idOf(rootStat);
  const visited = new Set<string>([rootId]);
  const stack: PendingDir[] = [{ abs: absRoot, rel: '', chain: [rootId] }];

  const skip = (source: string, reason: SkippedEntry['reason'], detail?: string): ScanItem => ({
    type: 'skipped',
    entry: detail === undefined ? { source, reason } : { source, reason, detail },
  });

  const candidate = (source: string, path: string, st: Stats): ScanItem => {
    const ext = extensionOf(source);
    if (!allowed.has(ext)) {
      return skip(
        source,
        'not-media',
        ext ? `.${ext} is not a kept ${options.media} extension` : 'no file extension',
      );
    }
    if (st.size === 0) return skip(source, 'empty', '0 bytes');
    if (options.media === 'images' && st.size > maxImageBytes) {
      return skip(
        source,
        'too-large',
        `${st.size} bytes, over the ${maxImageBytes}-byte limit for one image`,
      );
    }
    let head: Uint8Array;
    try {
      head = sniff(path);
    } catch (error) {
      return skip(source, 'unreadable', errorCode(error));
    }
    const mismatch = contentMismatch(ext, head);
    if (mismatch) return skip(source, 'not-media', mismatch);
    return { type: 'file', source, path, size: st.size, mtimeMs: st.mtimeMs };
  };

  /**
   * Classifies one folder entry: a scan item, a folder to visit, or nothing (a sub-folder when not
   * recursive). Synchronous on purpose: a stat and a 16-byte read each cost a few microseconds, while a
   * round trip through the thread pool costs ten times that; the event loop gets a turn between batches.
   */
  const classify = (dir: PendingDir, entry: Dirent): ScanItem | PendingDir | undefined => {
    const source = dir.rel ? `${dir.rel}/${entry.name}` : entry.name;
    const path = join(dir.abs, entry.name);
    if (entry.isFile()) {
      const st = statOrError(path);
      return st instanceof Error ? skip(source, 'unreadable', errorCode(st)) : candidate(source, path, st);
    }
    if (!entry.isDirectory() && !entry.isSymbolicLink()) return skip(source, 'not-a-file');
    if (entry.isDirectory() && !recursive) return undefined;
    const target = statOrError(path);
    if (target instanceof Error) {
      const code = errorCode(target);
      if (entry.isDirectory()) return skip(source, 'unreadable', `folder: ${code}`);
      if (code === 'ELOOP') return skip(source, 'symlink-loop', 'the link resolves to itself');
      return skip(source, 'unreadable', code === 'ENOENT' ? 'broken symbolic link' : code);
    }
    if (target.isFile()) return candidate(source, path, target);
    if (!target.isDirectory()) return skip(source, 'not-a-file');
    if (!recursive) return undefined;
    const id = idOf(target);
    if (dir.chain.includes(id)) return skip(source, 'symlink-loop', 'links to a folder above it');
    if (visited.has(id)) {
      return skip(
        source,
        'duplicate',
        entry.isDirectory() ? 'already scanned through a symbolic link' : 'links to a folder already scanned',
      );
    }
    visited.add(id);
    return { abs: path, rel: source, chain: [...dir.chain, id] };
  };

  while (stack.length > 0) {
    const dir = stack.pop()!;
    let handle: Dir;
    try {
      handle = await opendir(dir.abs, { bufferSize: BATCH });
    } catch (error) {
      yield skip(dir.rel || '.', 'unreadable', `folder: ${errorCode(error)}`);
      continue;
    }
    try {
      // A batch of entries is read and examined synchronously, then the event loop gets a turn.
      for (;;) {
        const items: ScanItem[] = [];
        let entry: Dirent | null = null;
        for (let n = 0; n < BATCH && (entry = handle.readSync()) !== null; n++) {
          const result = classify(dir, entry);
          if (result === undefined) continue;
          if ('type' in result) items.push(result);
          else stack.push(result);
        }
        for (const item of items) yield item;
        if (entry === null) break;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } catch (error) {
      yield skip(dir.rel || '.', 'unreadable', `folder listing failed: ${errorCode(error)}`);
    } finally {
      await handle.close().catch(() => {});
    }
  }
}

async function statRoot(root: string, absRoot: string): Promise<Stats> {
  let st: Stats;
  try {
    st = await stat(absRoot);
  } catch (error) {
    const code = errorCode(error);
    const what =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'EACCES'
          ? 'cannot be read (permission denied)'
          : `cannot be read (${code})`;
    throw new RfbatchError(ErrorCode.source, `folder "${root}" ${what}`, { hint: HINT });
  }
  if (!st.isDirectory())
    throw new RfbatchError(ErrorCode.source, `"${root}" is not a folder`, { hint: HINT });
  return st;
}

function statOrError(path: string): Stats | Error {
  try {
    return statSync(path);
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** The first bytes of a file. */
function sniff(path: string): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(SNIFF_BYTES);
    return buffer.subarray(0, readSync(fd, buffer, 0, SNIFF_BYTES, 0));
  } finally {
    closeSync(fd);
  }
}

function idOf(st: Stats): string {
  return `${st.dev}:${st.ino}`;
}

function errorCode(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code ?? (error instanceof Error ? error.message : String(error));
}
