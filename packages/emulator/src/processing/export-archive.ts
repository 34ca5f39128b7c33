/**
 * Builds one `.tar.gz` export archive, streaming every member from disk (results file, and the input
 * images when `persistImagesOutputs` is set). The malicious-export fault adds one hostile member.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tar, { type Header, type Pack } from 'tar-stream';

type EntryHeader = Partial<Header> & { name: string };

export interface ArchiveMember {
  name: string;
  /** Absolute path and byte range of the member's content. */
  path: string;
  offset: number;
  sizeBytes: number;
}

export type MaliciousKind = 'traversal' | 'absolute' | 'symlink' | 'bomb';

/** Size the "bomb" member claims (zeros, so it compresses to about 1/1000). */
const BOMB_BYTES = 512 * 1024 * 1024;

/** Writes the archive to `dest`, its members stamped `mtimeMs`; returns its size in bytes. */
export async function writeExportArchive(
  dest: string,
  members: ArchiveMember[],
  malicious: MaliciousKind | null,
  mtimeMs: number,
  onMember?: (done: number) => void,
): Promise<number> {
  const pack = tar.pack();
  const out = createWriteStream(dest);
  const written = pipeline(pack, createGzip({ level: 1 }), out);
  const mtime = new Date(mtimeMs);
  const add = (header: EntryHeader, source?: AsyncIterable<unknown>) =>
    new Promise<void>((resolve, reject) => {
      const entry = pack.entry(header, (err) => (err ? reject(err) : resolve()));
      void (async () => {
        try {
          if (source) for await (const chunk of source) if (!entry.write(chunk)) await once(entry, 'drain');
          entry.end(undefined);
        } catch (err) {
          entry.destroy(err as Error);
          reject(err as Error);
        }
      })();
    });
  if (malicious) await addMalicious(pack, malicious, mtime, add);
  let n = 0;
  for (const m of members) {
    const source =
      m.sizeBytes > 0
        ? createReadStream(m.path, { start: m.offset, end: m.offset + m.sizeBytes - 1 })
        : undefined;
    await add({ name: m.name, size: m.sizeBytes, mode: 0o644, mtime, type: 'file' }, source);
    onMember?.(++n);
  }
  pack.finalize();
  await written;
  return out.bytesWritten;
}

async function addMalicious(
  pack: Pack,
  kind: MaliciousKind,
  mtime: Date,
  add: (h: EntryHeader, s?: AsyncIterable<unknown>) => Promise<void>,
): Promise<void> {
  const text = Buffer.from('written by the rfbatch emulator malicious-export fault\n');
  if (kind === 'traversal') {
    await new Promise<void>((resolve, reject) =>
      pack.entry({ name: '../../rfbatch-escape.txt', size: text.length, mtime }, text, (e) =>
        e ? reject(e) : resolve(),
      ),
    );
  } else if (kind === 'absolute') {
    await new Promise<void>((resolve, reject) =>
      pack.entry({ name: '/tmp/rfbatch-absolute.txt', size: text.length, mtime }, text, (e) =>
        e ? reject(e) : resolve(),
      ),
    );
  } else if (kind === 'symlink') {
    await add({ name: 'results-link', type: 'symlink', linkname: '/etc/passwd', size: 0, mtime });
  } else {
    const chunk = Buffer.alloc(1024 * 1024);
    let left = BOMB_BYTES;
    const zeros = new Readable({
      read() {
        const n = Math.min(chunk.length, left);
        left -= n;
        this.push(n === 0 ? null : n === chunk.length ? chunk : chunk.subarray(0, n));
      },
    });
    await add({ name: 'bomb.bin', size: BOMB_BYTES, mtime, type: 'file' }, zeros);
  }
}
