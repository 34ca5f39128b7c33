import { close, open, read } from 'node:fs';
import { opendir, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { Dirent, Stats } from 'node:fs';
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

/** Folder entries examined at once. */
const BATCH = 32;

const HINT = 'give a folder the ingest workers can read (on shared storage when workers run on several hosts)';

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

  const candidate = async (source: string, path: string, st: Stats): Promise<ScanItem> => {
    const ext = extensionOf(source);
    if (!allowed.has(ext)) {
      return skip(source, 'not-media', ext ? `.${ext} is not a kept ${options.media} extension` : 'no file extension');
    }
    if (st.size === 0) return skip(source, 'empty', '0 bytes');
    if (options.media === 'images' && st.size > maxImageBytes) {
      return skip(source, 'too-large', `${st.size} bytes, over the ${maxImageBytes}-byte limit for one image`);
    }
    let head: Uint8Array;
    try {
      head = await sniff(path);
    } catch (error) {
      return skip(source, 'unreadable', errorCode(error));
    }
    const mismatch = contentMismatch(ext, head);
    if (mismatch) return skip(source, 'not-media', mismatch);
    return { type: 'file', source, path, size: st.size, mtimeMs: st.mtimeMs };
  };

  /** Classifies one folder entry: a scan item, a folder to visit, or nothing (a sub-folder when not recursive). */
  const classify = async (dir: PendingDir, entry: Dirent): Promise<ScanItem | PendingDir | undefined> => {
    const source = dir.rel ? `${dir.rel}/${entry.name}` : entry.name;
    const path = join(dir.abs, entry.name);
    if (entry.isFile()) {
      const st = await stat(path).catch((error: unknown) => error);
      return st instanceof Error ? skip(source, 'unreadable', errorCode(st)) : candidate(source, path, st as Stats);
    }
    if (!entry.isDirectory() && !entry.isSymbolicLink()) return skip(source, 'not-a-file');
    if (entry.isDirectory() && !recursive) return undefined;
    const st = await stat(path).catch((error: unknown) => error);
    if (st instanceof Error) {
      const code = errorCode(st);
      if (entry.isDirectory()) return skip(source, 'unreadable', `folder: ${code}`);
      if (code === 'ELOOP') return skip(source, 'symlink-loop', 'the link resolves to itself');
      return skip(source, 'unreadable', code === 'ENOENT' ? 'broken symbolic link' : code);
    }
    const target = st as Stats;
    if (target.isFile()) return candidate(source, path, target);
    if (!target.isDirectory()) return skip(source, 'not-a-file');
    if (!recursive) return undefined;
    const id = idOf(target);
    if (dir.chain.includes(id)) return skip(source, 'symlink-loop', 'links to a folder above it');
    if (visited.has(id)) {
      return skip(source, 'duplicate', entry.isDirectory() ? 'already scanned through a symbolic link' : 'links to a folder already scanned');
    }
    visited.add(id);
    return { abs: path, rel: source, chain: [...dir.chain, id] };
  };

  while (stack.length > 0) {
    const dir = stack.pop()!;
    let handle;
    try {
      handle = await opendir(dir.abs, { bufferSize: BATCH });
    } catch (error) {
      yield skip(dir.rel || '.', 'unreadable', `folder: ${errorCode(error)}`);
      continue;
    }
    // Entries are examined a batch at a time, concurrently: a stat and a 16-byte read per file would
    // otherwise cost a full round trip through the thread pool each.
    const batch: Dirent[] = [];
    const flush = async function* (): AsyncGenerator<ScanItem> {
      const results = await Promise.all(batch.splice(0).map((entry) => classify(dir, entry)));
      for (const result of results) {
        if (result === undefined) continue;
        if ('type' in result) yield result;
        else stack.push(result);
      }
    };
    try {
      for await (const entry of handle) {
        batch.push(entry);
        if (batch.length >= BATCH) yield* flush();
      }
      yield* flush();
    } catch (error) {
      yield skip(dir.rel || '.', 'unreadable', `folder listing failed: ${errorCode(error)}`);
    }
  }
}

async function statRoot(root: string, absRoot: string): Promise<Stats> {
  let st: Stats;
  try {
    st = await stat(absRoot);
  } catch (error) {
    const code = errorCode(error);
    const what = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'cannot be read (permission denied)' : `cannot be read (${code})`;
    throw new RfbatchError(ErrorCode.source, `folder "${root}" ${what}`, { hint: HINT });
  }
  if (!st.isDirectory()) throw new RfbatchError(ErrorCode.source, `"${root}" is not a folder`, { hint: HINT });
  return st;
}

const openFd = promisify(open);
const closeFd = promisify(close);

/** The first bytes of a file (plain descriptors: cheaper than FileHandle for millions of small reads). */
async function sniff(path: string): Promise<Uint8Array> {
  const fd = await openFd(path, 'r');
  try {
    const buffer = Buffer.alloc(SNIFF_BYTES);
    const bytesRead = await new Promise<number>((resolve, reject) =>
      read(fd, buffer, 0, SNIFF_BYTES, 0, (error, n) => (error ? reject(error) : resolve(n))),
    );
    return buffer.subarray(0, bytesRead);
  } finally {
    await closeFd(fd);
  }
}

function idOf(st: Stats): string {
  return `${st.dev}:${st.ino}`;
}

function errorCode(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code ?? (error instanceof Error ? error.message : String(error));
}
