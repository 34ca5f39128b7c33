/**
 * The one way rfbatch writes a file: never through a link planted where it writes. Content goes to
 * a temp name of random bytes created exclusively (O_CREAT|O_EXCL|O_NOFOLLOW: a file or link already
 * there is an error, never opened), then is renamed over the target (rename replaces a link, it does
 * not follow it). A failed write removes its temp file. A full disk becomes one clear error naming
 * the path, the filesystem and what to do.
 */
import { randomBytes } from 'node:crypto';
import { constants, existsSync, statSync, type WriteStream } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { once } from 'node:events';
import { basename, dirname, join } from 'node:path';
import { ErrorCode, RfbatchError } from './errors.js';

const CREATE_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** A fresh temp name next to `path` (same folder, so the rename stays on one filesystem). */
function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * Opens a fresh temp file for `path` (exclusive, no-follow), for writers that append through a file
 * handle; rename it over `path` when complete, remove it otherwise.
 */
export async function openTempFor(
  path: string,
  mode = 0o644,
  { readable = false }: { readable?: boolean } = {},
): Promise<{ tmp: string; handle: FileHandle }> {
  const tmp = tempPathFor(path);
  const flags = readable ? (CREATE_NEW & ~constants.O_WRONLY) | constants.O_RDWR : CREATE_NEW;
  try {
    return { tmp, handle: await open(tmp, flags, mode) };
  } catch (error) {
    throw writeError(error, path);
  }
}

/**
 * Creates `path` only if nothing (not even a dangling link) is there. Returns false when it exists.
 * For claim markers: exactly one of several writers wins.
 */
export async function createExclusive(
  path: string,
  data: string | Uint8Array,
  mode = 0o644,
): Promise<boolean> {
  let handle: FileHandle;
  try {
    handle = await open(path, CREATE_NEW, mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw writeError(error, path);
  }
  try {
    await handle.writeFile(data);
  } catch (error) {
    await handle.close().catch(() => {});
    await rm(path, { force: true });
    throw writeError(error, path);
  }
  await handle.close();
  return true;
}

/** Writes `data` to `path` atomically, without following a link at `path` or at its temp name. */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const tmp = tempPathFor(path);
  let handle: FileHandle | undefined;
  try {
    handle = await open(tmp, CREATE_NEW, mode);
    await handle.writeFile(data);
    await handle.close();
    handle = undefined;
    await rename(tmp, path);
  } catch (error) {
    await handle?.close().catch(() => {});
    await rm(tmp, { force: true });
    throw writeError(error, path);
  }
}

/** A stream to a temp file that becomes `path` on `commit()`; `abort()` removes it. */
export interface AtomicWriteStream {
  stream: WriteStream;
  /** Ends the stream, waits for it to flush and renames the temp file over `path`. */
  commit(): Promise<void>;
  /** Destroys the stream and removes the temp file (safe to call after a failed commit). */
  abort(): Promise<void>;
}

/** Opens an {@link AtomicWriteStream} for `path`. Write errors surface from `commit()` as {@link writeError}. */
export async function createAtomicWriteStream(path: string, mode = 0o644): Promise<AtomicWriteStream> {
  const tmp = tempPathFor(path);
  let handle: FileHandle;
  try {
    handle = await open(tmp, CREATE_NEW, mode);
  } catch (error) {
    throw writeError(error, path);
  }
  // The stream owns the handle (and closes it), so the handle is never closed twice.
  const stream = handle.createWriteStream();
  let failure: unknown;
  stream.on('error', (error) => (failure ??= error));
  const abort = async () => {
    // Wait for 'close' also when the stream is already destroyed (after an error) but its handle is
    // still closing: the temp file is removed, and abort resolves, only once the handle is closed.
    if (!stream.closed) {
      const closed = once(stream, 'close').catch(() => {});
      stream.destroy();
      await closed;
    }
    await rm(tmp, { force: true });
  };
  return {
    stream,
    abort,
    async commit() {
      try {
        if (failure) throw failure;
        const closed = once(stream, 'close');
        stream.end();
        await closed;
        if (failure) throw failure;
        await rename(tmp, path);
      } catch (error) {
        await abort();
        throw writeError(error, path);
      }
    },
  };
}

/**
 * Writes `line` to `stream`, waiting for it to drain when its buffer is full. Rejects (never hangs)
 * when the stream has failed or closed: a destroyed stream emits neither 'drain' nor 'error' again.
 */
export async function writeLine(stream: WriteStream, line: string): Promise<void> {
  if (stream.destroyed) throw stoppedError(stream);
  if (stream.write(line)) return;
  if (stream.destroyed) throw stoppedError(stream);
  // One wait per full buffer: its listeners are removed when it ends, so none pile up on the stream.
  const done = new AbortController();
  try {
    await Promise.race([
      once(stream, 'drain', { signal: done.signal }),
      once(stream, 'close', { signal: done.signal }).then(() => {
        throw stoppedError(stream);
      }),
    ]);
  } finally {
    done.abort();
  }
}

function stoppedError(stream: WriteStream): Error {
  return stream.errored ?? new Error('the file was closed before all of it was written');
}

const NO_SPACE = new Set(['ENOSPC', 'EDQUOT']);

/** True for "no space left" and "quota exceeded". */
export function isNoSpace(error: unknown): boolean {
  return NO_SPACE.has((error as NodeJS.ErrnoException | undefined)?.code ?? '');
}

/** The folder the filesystem holding `path` is mounted at: the highest folder above it on the same device. */
function mountPointOf(path: string): string {
  let dir = dirname(path);
  // The nearest folder that exists: the path itself may be a temp name that was never created.
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  const dev = statSync(dir).dev;
  for (let up = dirname(dir); up !== dir && statSync(up).dev === dev; up = dirname(dir)) dir = up;
  return dir;
}

/**
 * The error to show for a failed write of `path`: a full disk names the path, the filesystem (its
 * mount point and free bytes) and what to do; anything else keeps its message with the path in front.
 * An {@link RfbatchError} passes through.
 */
export function writeError(error: unknown, path: string): Error {
  if (error instanceof RfbatchError) return error;
  const err = error as NodeJS.ErrnoException;
  if (isNoSpace(err)) {
    const mount = mountPointOf(path);
    const what = err.code === 'EDQUOT' ? 'the disk quota is exceeded' : 'no space is left';
    return new RfbatchError(
      ErrorCode.run,
      `cannot write "${path}": ${what} on the filesystem mounted at "${mount}"`,
      {
        hint: `free space on "${mount}" (or point the work dir / output folder at a larger filesystem), then rfbatch retry the run; nothing partial was kept`,
        cause: error,
      },
    );
  }
  const message = err instanceof Error ? err.message : String(err);
  const wrapped = new Error(`cannot write "${path}": ${message}`, { cause: error });
  if (err?.code) (wrapped as NodeJS.ErrnoException).code = err.code;
  return wrapped;
}

/** Writes `chunks` at `position`, all of them (one writev; a short one is finished with write). */
export async function writeAt(
  handle: FileHandle,
  chunks: Buffer[],
  position: number,
  length: number,
): Promise<void> {
  let done = (await handle.writev(chunks, position)).bytesWritten;
  if (done === length) return;
  const all = Buffer.concat(chunks);
  while (done < length) done += (await handle.write(all, done, length - done, position + done)).bytesWritten;
}
