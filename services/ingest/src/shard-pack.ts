import { close, fstat, open, read } from 'node:fs';
import { promisify } from 'node:util';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { ErrorCode, RfbatchError } from '@rfbatch/shared';
import { tarSize } from './tar-size.js';

/** A tar member: a source file or a bucket object of a planned size, or a small in-memory document. */
export type TarMember = FileMember | ObjectMember | { name: string; data: Buffer };
interface SizedMember {
  name: string;
  /** The path or object key shown in messages. */
  source: string;
  size: number;
  mtimeMs?: number;
}
interface FileMember extends SizedMember {
  path: string | Buffer;
}
/** An object read from a bucket (stream mode): `open` starts a GET of its bytes. */
interface ObjectMember extends SizedMember {
  open: () => Promise<AsyncIterable<Buffer>>;
}

export interface PackedShard {
  /** The tar, produced as it is read; never the whole shard in memory. */
  stream: Readable;
  /** Its exact length in bytes. */
  size: number;
}

/** Files up to this size are read whole, a few ahead of the tar, to hide per-file open/read latency. */
const SMALL_FILE_BYTES = 1024 * 1024;
const READ_AHEAD_FILES = 4;
const READ_AHEAD_BYTES = 1024 * 1024;

// Plain file descriptors: the FileHandle API costs noticeably more per small file.
const openFd = promisify(open);
const fstatFd = promisify(fstat);
const closeFd = promisify(close);
const readFd = (fd: number, buffer: Buffer, offset: number, length: number, position: number) =>
  new Promise<number>((resolve, reject) =>
    read(fd, buffer, offset, length, position, (error, n) => (error ? reject(error) : resolve(n))),
  );
const CHUNK_BYTES = 1024 * 1024;

/**
 * Streams `members` into a tar. Each file must keep the size it had when planned, before and after it
 * is read; otherwise the stream fails with an error naming the file and no complete tar is ever
 * produced (the archive end is written only after the last check). Memory stays bounded by the
 * read-ahead window (a few files, about 1 MiB) plus one 1 MiB chunk, whatever the shard size.
 */
export function packShard(members: readonly TarMember[], onFileBytes?: (bytes: number) => void): PackedShard {
  const size = tarSize(members.map((m) => ({ name: m.name, size: 'data' in m ? m.data.length : m.size })));
  const pack = tar.pack();
  fill(pack, members, onFileBytes).catch((error: unknown) =>
    pack.destroy(error instanceof Error ? error : new Error(String(error))),
  );
  return { stream: Readable.from(pack, { objectMode: false }), size };
}

async function fill(
  pack: tar.Pack,
  members: readonly TarMember[],
  onFileBytes?: (bytes: number) => void,
): Promise<void> {
  const ahead: Array<Promise<Buffer | undefined>> = [];
  let next = 0;
  let aheadBytes = 0;
  const refill = () => {
    while (next < members.length && ahead.length < READ_AHEAD_FILES && aheadBytes < READ_AHEAD_BYTES) {
      const member = members[next++]!;
      if ('data' in member) ahead.push(Promise.resolve(member.data));
      else if (member.size > SMALL_FILE_BYTES)
        ahead.push(Promise.resolve(undefined)); // streamed at its turn
      else {
        aheadBytes += member.size;
        const loading = 'open' in member ? readObjectWhole(member) : readWhole(member);
        loading.catch(() => {}); // awaited in order below; this only avoids an unhandled rejection
        ahead.push(loading);
      }
    }
  };
  for (const member of members) {
    refill();
    const data = await ahead.shift()!;
    if (data) {
      if (!('data' in member)) aheadBytes -= member.size;
      await addEntry(pack, header(member, data.length), [data]);
      if (!('data' in member)) onFileBytes?.(data.length);
    } else if ('open' in member) {
      await addEntry(pack, header(member, member.size), objectChunks(member, onFileBytes));
    } else {
      await streamLarge(pack, member as FileMember, onFileBytes);
    }
  }
  pack.finalize();
}

function header(member: TarMember, size: number): Partial<tar.Header> & { name: string; size: number } {
  const mtime = 'mtimeMs' in member && member.mtimeMs !== undefined ? new Date(member.mtimeMs) : undefined;
  return { name: member.name, size, ...(mtime ? { mtime } : {}) };
}

/** Opens a source file, or says plainly that it cannot be read. */
async function openFile(member: FileMember): Promise<number> {
  try {
    return await openFd(member.path, 'r');
  } catch (error) {
    throw new RfbatchError(
      ErrorCode.upload,
      `cannot read "${member.source}" (${(error as NodeJS.ErrnoException).code ?? error})`,
      {
        hint: 'the file disappeared or became unreadable after planning; restore it or start a new run',
        cause: error,
      },
    );
  }
}

async function openChecked(member: FileMember): Promise<number> {
  const fd = await openFile(member);
  try {
    await checkSize(fd, member, 'since planning');
  } catch (error) {
    await closeFd(fd);
    throw error;
  }
  return fd;
}

/**
 * A small file read whole in four calls (open, a read of one byte more than planned, a read that must
 * find the end, close), the cost that matters when a shard is hundreds of tiny files: no fstat before
 * or after. A short read is not taken for the end (NFS and FUSE may return one), so the second read
 * proves it. Any other count is a change of size, reported with the size the file has now.
 */
async function readWhole(member: FileMember): Promise<Buffer> {
  const fd = await openFile(member);
  try {
    const buffer = Buffer.allocUnsafe(member.size + 1);
    let position = 0;
    for (;;) {
      const want = buffer.length - position;
      const bytesRead = await readFd(fd, buffer, position, want, position);
      position += bytesRead;
      if (position > member.size) break;
      if (bytesRead === 0) break;
    }
    if (position !== member.size) {
      const { size } = await fstatFd(fd);
      throw sizeChanged(member, size, 'since planning');
    }
    return buffer.subarray(0, member.size);
  } finally {
    await closeFd(fd);
  }
}

async function streamLarge(
  pack: tar.Pack,
  member: FileMember,
  onFileBytes?: (bytes: number) => void,
): Promise<void> {
  const fd = await openChecked(member);
  try {
    async function* chunks(): AsyncGenerator<Buffer> {
      let position = 0;
      while (position < member.size) {
        const length = Math.min(CHUNK_BYTES, member.size - position);
        const buffer = Buffer.allocUnsafe(length);
        const bytesRead = await readFd(fd, buffer, 0, length, position);
        if (bytesRead === 0) throw sizeChanged(member, position, 'while it was read');
        position += bytesRead;
        onFileBytes?.(bytesRead);
        yield bytesRead === length ? buffer : buffer.subarray(0, bytesRead);
      }
      // A file that grew while it was read may be torn in the tar: the shard must not finish.
      await checkSize(fd, member, 'while it was read');
    }
    await addEntry(pack, header(member, member.size), chunks());
  } finally {
    await closeFd(fd);
  }
}

/**
 * An object's bytes, checked against its planned size as they arrive: more or fewer bytes than the
 * listing said (the object was replaced since planning) fail the shard before the tar can complete.
 */
async function* objectChunks(
  member: ObjectMember,
  onFileBytes?: (bytes: number) => void,
): AsyncGenerator<Buffer> {
  let body: AsyncIterable<Buffer>;
  try {
    body = await member.open();
  } catch (error) {
    throw new RfbatchError(ErrorCode.upload, `cannot read "${member.source}" (${(error as Error).message})`, {
      hint: 'the object disappeared or became unreadable after planning; restore it or start a new run',
      retryable: (error as RfbatchError).retryable ?? false,
      cause: error,
    });
  }
  let received = 0;
  const iterator = body[Symbol.asyncIterator]();
  try {
    for (;;) {
      let next: IteratorResult<Buffer>;
      try {
        next = await iterator.next();
      } catch (error) {
        // A connection cut mid-body: the shard is retried (with a fresh signed URL and a new GET).
        throw new RfbatchError(
          ErrorCode.upload,
          `reading "${member.source}" failed after ${received} of ${member.size} bytes (${(error as Error).message})`,
          {
            retryable: true,
            cause: error,
            hint: 'check the source bucket endpoint and network; the shard is retried',
          },
        );
      }
      if (next.done) break;
      const chunk = next.value;
      received += chunk.length;
      if (received > member.size) throw sizeChanged(member, received, 'while it was read');
      onFileBytes?.(chunk.length);
      yield chunk;
    }
  } finally {
    // Ends the GET when the shard stops early (a size check, an aborted PUT): no socket is left open.
    await iterator.return?.();
  }
  if (received !== member.size) throw sizeChanged(member, received, 'while it was read');
}

async function readObjectWhole(member: ObjectMember): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of objectChunks(member)) chunks.push(chunk);
  return Buffer.concat(chunks, member.size);
}

async function checkSize(fd: number, member: FileMember, when: string): Promise<void> {
  const { size } = await fstatFd(fd);
  if (size !== member.size) throw sizeChanged(member, size, when);
}

function sizeChanged(member: SizedMember, now: number, when: string): RfbatchError {
  return new RfbatchError(
    ErrorCode.upload,
    `"${member.source}" changed size ${when} (planned ${member.size} bytes, now ${now}); its shard was not uploaded`,
    { hint: 'make sure nothing changes the source (folder or bucket) during a run, then start a new run' },
  );
}

/** Writes one entry, honouring backpressure, and resolves when tar-stream has taken all of it. */
async function addEntry(
  pack: tar.Pack,
  entryHeader: Partial<tar.Header> & { name: string; size: number },
  chunks: Iterable<Buffer> | AsyncIterable<Buffer>,
): Promise<void> {
  let settle!: (error?: Error | null) => void;
  const done = new Promise<void>((resolve, reject) => {
    settle = (error) => (error ? reject(error) : resolve());
  });
  const sink = pack.entry(entryHeader, (error) => settle(error));
  try {
    for await (const chunk of chunks) {
      if (!sink.write(chunk)) await once(sink, 'drain');
    }
    sink.end(undefined);
  } catch (error) {
    sink.destroy(error as Error);
    throw error;
  }
  await done;
}
