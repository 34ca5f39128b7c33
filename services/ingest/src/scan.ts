import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { opendir, stat } from 'node:fs/promises';
import type { Dir, Dirent, Stats } from 'node:fs';
import { resolve } from 'node:path';
import {
  displayPath,
  ErrorCode,
  MAX_IMAGE_BYTES,
  RfbatchError,
  type MediaKind,
  type SkippedEntry,
} from '@rfbatch/shared';
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

/**
 * A media file found under the root: `source` is its path relative to the root, with `/` separators.
 * A name that is not valid UTF-8 shows U+FFFD in `source`; its exact bytes are in `sourceBytes`
 * (base64) and `path` is then a Buffer, so the file is still opened by its real name.
 */
export interface ScannedFile {
  type: 'file';
  source: string;
  sourceBytes?: string;
  path: string | Buffer;
  size: number;
  mtimeMs: number;
}
export type ScanItem = ScannedFile | { type: 'skipped'; entry: SkippedEntry };

/** Folder paths are kept as bytes: a name need not be valid UTF-8. */
interface PendingDir {
  abs: Buffer;
  rel: Buffer;
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
  const stack: PendingDir[] = [{ abs: Buffer.from(absRoot), rel: Buffer.alloc(0), chain: [rootId] }];

  const skip = (rel: Buffer, reason: SkippedEntry['reason'], detail?: string): ScanItem => ({
    type: 'skipped',
    entry: { ...displayPath(rel), reason, ...(detail === undefined ? {} : { detail }) },
  });

  const candidate = (rel: Buffer, path: string | Buffer, st: Stats): ScanItem => {
    const { source, sourceBytes } = displayPath(rel);
    const ext = extensionOf(source);
    if (!allowed.has(ext)) {
      return skip(
        rel,
        'not-media',
        ext ? `.${ext} is not a kept ${options.media} extension` : 'no file extension',
      );
    }
    if (st.size === 0) return skip(rel, 'empty', '0 bytes');
    if (options.media === 'images' && st.size > maxImageBytes) {
      return skip(rel, 'too-large', `${st.size} bytes, over the ${maxImageBytes}-byte limit for one image`);
    }
    let head: Uint8Array;
    try {
      head = sniff(path);
    } catch (error) {
      return skip(rel, 'unreadable', errorCode(error));
    }
    const mismatch = contentMismatch(ext, head);
    if (mismatch) return skip(rel, 'not-media', mismatch);
    return {
      type: 'file',
      source,
      ...(sourceBytes === undefined ? {} : { sourceBytes }),
      path,
      size: st.size,
      mtimeMs: st.mtimeMs,
    };
  };

  /**
   * Classifies one folder entry: a scan item, a folder to visit, or nothing (a sub-folder when not
   * recursive). Synchronous on purpose: a stat and a 16-byte read each cost a few microseconds, while a
   * round trip through the thread pool costs ten times that; the event loop gets a turn between batches.
   */
  const classify = (dir: PendingDir, entry: Dirent<Buffer>): ScanItem | PendingDir | undefined => {
    const rel = dir.rel.length ? Buffer.concat([dir.rel, SLASH, entry.name]) : entry.name;
    const abs = Buffer.concat([dir.abs, SLASH, entry.name]);
    // A string when the bytes are UTF-8 (what fs calls cost least with), else the bytes themselves.
    const path = fsPath(abs);
    if (entry.isFile()) {
      const st = statOrError(path);
      return st instanceof Error ? skip(rel, 'unreadable', errorCode(st)) : candidate(rel, path, st);
    }
    if (!entry.isDirectory() && !entry.isSymbolicLink()) return skip(rel, 'not-a-file');
    if (entry.isDirectory() && !recursive) return undefined;
    const target = statOrError(path);
    if (target instanceof Error) {
      const code = errorCode(target);
      if (entry.isDirectory()) return skip(rel, 'unreadable', `folder: ${code}`);
      if (code === 'ELOOP') return skip(rel, 'symlink-loop', 'the link resolves to itself');
      return skip(rel, 'unreadable', code === 'ENOENT' ? 'broken symbolic link' : code);
    }
    if (target.isFile()) return candidate(rel, path, target);
    if (!target.isDirectory()) return skip(rel, 'not-a-file');
    if (!recursive) return undefined;
    const id = idOf(target);
    if (dir.chain.includes(id)) return skip(rel, 'symlink-loop', 'links to a folder above it');
    if (visited.has(id)) {
      return skip(
        rel,
        'duplicate',
        entry.isDirectory() ? 'already scanned through a symbolic link' : 'links to a folder already scanned',
      );
    }
    visited.add(id);
    return { abs, rel, chain: [...dir.chain, id] };
  };

  while (stack.length > 0) {
    const dir = stack.pop()!;
    let handle: Dir;
    const here = dir.rel.length ? dir.rel : DOT;
    try {
      // Names as bytes (the types say BufferEncoding, but fs takes 'buffer' and yields Buffer names).
      handle = await opendir(fsPath(dir.abs), {
        bufferSize: BATCH,
        encoding: 'buffer' as BufferEncoding,
      });
    } catch (error) {
      yield skip(here, 'unreadable', `folder: ${errorCode(error)}`);
      continue;
    }
    try {
      // A batch of entries is read and examined synchronously, then the event loop gets a turn.
      for (;;) {
        const items: ScanItem[] = [];
        let entry: Dirent<Buffer> | null = null;
        for (let n = 0; n < BATCH && (entry = handle.readSync() as Dirent<Buffer> | null) !== null; n++) {
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
      yield skip(here, 'unreadable', `folder listing failed: ${errorCode(error)}`);
    } finally {
      await handle.close().catch(() => {});
    }
  }
}

const SLASH = Buffer.from('/');
const DOT = Buffer.from('.');

/** The path to give fs: a string when `bytes` are valid UTF-8, else the bytes. */
function fsPath(bytes: Buffer): string | Buffer {
  const text = bytes.toString('utf8');
  return Buffer.from(text, 'utf8').equals(bytes) ? text : bytes;
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

function statOrError(path: string | Buffer): Stats | Error {
  try {
    return statSync(path);
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** The first bytes of a file. */
function sniff(path: string | Buffer): Uint8Array {
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
