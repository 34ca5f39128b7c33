import { randomBytes } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { execFile } from 'node:child_process';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { promisify } from 'node:util';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract } from 'tar-stream';
import { z } from 'zod';
import { ErrorCode, isNoSpace, RfbatchError, writeAt, writeError, type StreamedFile } from '@rfbatch/shared';

const execFileAsync = promisify(execFile);

/** Entry files are opened without following a link (the staging folder is fresh; belt and braces). */
const WRITE_NO_FOLLOW = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;

/** Limits that keep a hostile or broken archive from filling the disk. */
export interface ExtractLimits {
  /** Most bytes one archive may expand to. @defaultValue 20 GiB */
  maxTotalBytes: number;
  /** Most bytes per byte of archive (a decompression bomb expands far more). @defaultValue 200 */
  maxRatio: number;
  /** Below this many extracted bytes the ratio is not checked (tiny text compresses very well). @defaultValue 64 MiB */
  ratioFloorBytes: number;
  /** Most entries in one archive. @defaultValue 1_000_000 */
  maxEntries: number;
}

export const DEFAULT_EXTRACT_LIMITS: ExtractLimits = {
  maxTotalBytes: 20 * 1024 ** 3,
  maxRatio: 200,
  ratioFloorBytes: 64 * 1024 ** 2,
  maxEntries: 1_000_000,
};

/** An archive that was refused; nothing of it is left on disk. */
export class UnsafeArchiveError extends RfbatchError {
  readonly entry: string | undefined;
  constructor(archive: string, entry: string | undefined, why: string) {
    const what = entry === undefined ? '' : ` at entry "${entry.slice(0, 200)}"`;
    super(ErrorCode.unsafeArchive, `export archive "${archive}" was refused${what}: ${why}`, {
      hint: 'nothing of it was extracted; the archive comes from the job output, so report it, or run with output.extract=false to keep archives unextracted',
    });
    this.entry = entry;
  }
}

/**
 * The path of an entry relative to the destination, or an error message when it could reach outside:
 * absolute paths, drive letters, backslash roots, `..` segments and NUL bytes are refused.
 */
export function safeEntryPath(name: string): { path: string } | { refused: string } {
  if (name.includes('\0')) return { refused: 'the name contains a NUL byte' };
  if (name.startsWith('/') || name.startsWith('\\') || /^[A-Za-z]:/.test(name) || isAbsolute(name)) {
    return { refused: 'absolute path' };
  }
  const segments = name.split(/[/\\]+/);
  if (segments.includes('..')) return { refused: 'the path climbs out with ".."' };
  const kept = segments.filter((s) => s !== '' && s !== '.');
  return { path: kept.join('/') };
}

const ALLOWED_FILE_TYPES = new Set(['file', 'contiguous-file']);

/** Entries up to this size are gathered in memory and written in one call. */
const WHOLE_ENTRY_BYTES = 1024 * 1024;
/** gunzip's output pieces: its 16 KiB default cost a callback, a tar parse and a write per 16 KiB. */
const GUNZIP_CHUNK_BYTES = 256 * 1024;

/** Writes an entry's bytes in one call, counting them as they arrive (the expansion budget). */
async function writeWhole(
  entry: AsyncIterable<unknown>,
  handle: Awaited<ReturnType<typeof open>>,
  count: (n: number) => void,
): Promise<void> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const piece of entry) {
    const chunk = piece as Buffer;
    count(chunk.length);
    chunks.push(chunk);
    length += chunk.length;
  }
  // One writev of the pieces as they came: no copy of the entry into one more buffer.
  if (length > 0) await writeAt(handle, chunks, 0, length);
}

class ByteCounter extends Transform {
  bytes = 0;
  constructor(private readonly onBytes: (total: number) => void) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    try {
      this.onBytes(chunk.length);
    } catch (error) {
      done(error as Error);
      return;
    }
    done(null, chunk);
  }
}

/** The archive's bytes, and whether they are gzip (by their first two bytes, read ahead). */
async function sniffed(body: Readable): Promise<{ gzip: boolean; source: Readable }> {
  const it = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const held: Buffer[] = [];
  let seen = 0;
  while (seen < 2) {
    const next = await it.next();
    if (next.done) break;
    held.push(next.value);
    seen += next.value.length;
  }
  const head = Buffer.concat(held);
  async function* all(): AsyncGenerator<Buffer> {
    try {
      yield* held;
      for (let next = await it.next(); !next.done; next = await it.next()) yield next.value;
    } finally {
      await it.return?.();
    }
  }
  return { gzip: head[0] === 0x1f && head[1] === 0x8b, source: Readable.from(all(), { objectMode: false }) };
}

/** How an extracted archive is made durable before it is renamed into place. */
export const ExtractSync = z.enum(['filesystem', 'files', 'none']);
export type ExtractSync = z.infer<typeof ExtractSync>;

/**
 * Makes what was written into `staging` durable before it is renamed into place: by default one
 * syncfs of its filesystem (`sync --file-system`) per archive rather than one fsync per extracted
 * file (where that command is missing, or with `files`, each file is fsynced); `none` leaves it to
 * the OS (a crash may then leave a finished archive's files short).
 */
async function syncStaging(staging: string, how: ExtractSync): Promise<void> {
  if (how === 'none') return;
  if (how === 'filesystem') {
    try {
      await syncFileSystem(dirname(staging));
      return;
    } catch {
      // No coreutils `sync -f` here: fsync the files one by one.
    }
  }
  const entries = await readdir(staging, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const handle = await open(join(entry.parentPath, entry.name), 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}

/** Per filesystem (device): the `sync -f` running, and the one queued to start after it. */
const syncs = new Map<number, { running?: Promise<void>; queued?: Promise<void> }>();

/**
 * `sync --file-system` of the filesystem holding `dir`, shared by the archives that finish together.
 * A syncfs started after an archive's writes ended covers them, so an archive arriving while one runs
 * (which may have started before its writes) waits for the next, and everyone arriving meanwhile
 * shares that next one. Spawning costs the event loop about 15 ms each (a fork of a large process):
 * 8 archives finishing at once spawned 8, now 2. `dir` is the staging folders' parent, which outlives
 * each of them.
 */
async function syncFileSystem(dir: string): Promise<void> {
  const { dev } = await stat(dir);
  const state = syncs.get(dev) ?? {};
  syncs.set(dev, state);
  const start = (): Promise<void> => {
    const running = execFileAsync('sync', ['--file-system', dir]).then(() => undefined);
    state.running = running;
    void running
      .catch(() => {})
      .then(() => {
        if (state.running === running) state.running = undefined;
      });
    return running;
  };
  if (!state.running) return start();
  state.queued ??= state.running
    .catch(() => {})
    .then(() => {
      state.queued = undefined;
      return start();
    });
  return state.queued;
}

/** fsync of a folder, so a rename into it survives a crash (not supported everywhere: best effort). */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => undefined);
  await handle?.sync().catch(() => {});
  await handle?.close();
}

/** An archive as a file on disk, or as a stream being downloaded (`size` when the server told it). */
export type ArchiveInput = string | StreamedFile;

export interface ExtractResult {
  files: number;
  bytes: number;
}

/**
 * Extracts a `.tar` or `.tar.gz` (sniffed by its magic bytes) into `destDir`, safely:
 * - refuses absolute paths, `..`, symlinks, hard links, devices and FIFOs, and any entry that would
 *   resolve outside `destDir`;
 * - caps the total bytes, the expansion ratio and the entry count;
 * - writes into a staging folder beside `destDir` and renames it into place only when the whole
 *   archive passed, so a refused or interrupted archive leaves nothing behind and a re-run starts
 *   clean. Files get mode 0644 whatever the archive says.
 */
export async function safeExtract(
  archive: ArchiveInput,
  destDir: string,
  options: { label?: string; limits?: Partial<ExtractLimits>; sync?: ExtractSync } = {},
): Promise<ExtractResult> {
  const limits = { ...DEFAULT_EXTRACT_LIMITS, ...options.limits };
  const label = options.label ?? (typeof archive === 'string' ? archive : 'archive');
  const dest = resolve(destDir);
  const staging = `${dest}.partial-${randomBytes(4).toString('hex')}`;
  const input =
    typeof archive === 'string'
      ? { body: createReadStream(archive), size: (await stat(archive)).size }
      : archive;
  let compressed = 0;
  // The ratio is taken against the archive's size, or against the bytes read so far when unknown.
  const budget = () =>
    Math.min(
      limits.maxTotalBytes,
      Math.max(limits.ratioFloorBytes, (input.size ?? compressed) * limits.maxRatio),
    );
  await mkdir(dirname(staging), { recursive: true });
  // Not recursive: the fresh staging folder must be ours, not one planted under its name.
  await mkdir(staging).catch((error: unknown) => {
    input.body.destroy();
    throw writeError(error, staging);
  });

  let files = 0;
  let entries = 0;
  let total = 0;
  const extractor = tarExtract();
  let source: Readable = input.body;
  let feeding: Promise<void> = Promise.resolve();
  try {
    const { gzip, source: sniffedSource } = await sniffed(input.body);
    source = sniffedSource;
    const counted = new ByteCounter((n) => (compressed += n));
    feeding = gzip
      ? pipeline(source, counted, createGunzip({ chunkSize: GUNZIP_CHUNK_BYTES }), extractor)
      : pipeline(source, counted, extractor);
    // The feeding side's error, to stop waiting on an entry whose bytes will never come (tar-stream
    // leaves the entry open when its input fails midway).
    const fed = feeding.then(() => new Promise<never>(() => {}));
    fed.catch(() => {});
    for await (const entry of extractor) {
      const { header } = entry;
      const type = header.type ?? 'file';
      entries++;
      if (entries > limits.maxEntries)
        throw new UnsafeArchiveError(label, header.name, `more than ${limits.maxEntries} entries`);
      const checked = safeEntryPath(header.name);
      if ('refused' in checked) throw new UnsafeArchiveError(label, header.name, checked.refused);
      if (type === 'symlink' || type === 'link') {
        throw new UnsafeArchiveError(
          label,
          header.name,
          `${type === 'link' ? 'hard link' : 'symlink'} to "${header.linkname ?? ''}"`,
        );
      }
      if (type !== 'directory' && !ALLOWED_FILE_TYPES.has(type))
        throw new UnsafeArchiveError(label, header.name, `entry of type ${type}`);
      const target = resolve(staging, checked.path);
      if (!isInside(staging, target))
        throw new UnsafeArchiveError(label, header.name, 'resolves outside the output folder');
      if (type === 'directory' || checked.path === '') {
        if (checked.path !== '') await mkdir(target, { recursive: true, mode: 0o755 });
        entry.resume();
        continue;
      }
      if (total + (header.size ?? 0) > budget()) {
        throw new UnsafeArchiveError(
          label,
          header.name,
          `it expands beyond ${budget()} bytes (${input.size ?? compressed} bytes compressed; limits: ${limits.maxTotalBytes} bytes, ratio ${limits.maxRatio})`,
        );
      }
      await mkdir(dirname(target), { recursive: true, mode: 0o755 });
      const count = (n: number) => {
        total += n;
        if (total > budget())
          throw new UnsafeArchiveError(label, header.name, `it expands beyond ${budget()} bytes`);
      };
      const handle = await open(target, WRITE_NO_FOLLOW, 0o644);
      if ((header.size ?? 0) <= WHOLE_ENTRY_BYTES) {
        // Most outputs are small: gathered and written in one call, not a stream of 16 KiB writes.
        try {
          await Promise.race([writeWhole(entry, handle, count), fed]);
        } catch (error) {
          entry.destroy();
          throw error;
        } finally {
          await handle.close();
        }
      } else {
        const out = handle.createWriteStream();
        try {
          await Promise.race([pipeline(entry, new ByteCounter(count), out), fed]);
        } catch (error) {
          entry.destroy();
          out.destroy();
          throw error;
        }
      }
      files++;
    }
    await feeding;
    await syncStaging(staging, options.sync ?? 'filesystem');
    await rm(dest, { recursive: true, force: true });
    await mkdir(dirname(dest), { recursive: true });
    await rename(staging, dest);
    await syncDir(dirname(dest));
    return { files, bytes: total };
  } catch (error) {
    source.destroy();
    extractor.destroy();
    await rm(staging, { recursive: true, force: true });
    if (error instanceof RfbatchError) throw error;
    // A full disk is not a damaged archive: name the filesystem, not the file.
    if (isNoSpace(error)) throw writeError(error, staging);
    const message = error instanceof Error ? error.message : String(error);
    throw new RfbatchError(
      ErrorCode.download,
      `export archive "${label}" could not be extracted: ${message}`,
      {
        cause: error,
        hint: 'the file may be damaged or truncated; a retry downloads it again',
        retryable: true,
      },
    );
  }
}

/** True when `child` is `parent` or inside it. */
function isInside(parent: string, child: string): boolean {
  const rel = relative(resolve(parent), resolve(child));
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}
