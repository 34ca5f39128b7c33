/** `-o out.jsonl` of the inspection commands: one JSON document per line, written as items arrive. */
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { createAtomicWriteStream, writeError, writeLine } from '@rfbatch/shared';

export interface JsonlFile {
  /** The absolute path written. */
  path: string;
  write(value: unknown): Promise<void>;
  /** Lines written so far. */
  readonly lines: number;
  /** Flushes the lines and puts the file at `path` (a link planted there is replaced, never followed). */
  close(): Promise<void>;
  /** Drops what was written: nothing is put at `path`. */
  abort(): Promise<void>;
}

/**
 * Opens `file`, relative to `cwd` (its parent folders created), through the shared no-follow writer:
 * lines go to an exclusive temp file beside it that is renamed over `file` on `close()`. `mode`
 * 0o600 keeps a file that holds credentials (signed URLs) readable by its owner only; the file is
 * always new (the rename replaces whatever was at `file`), so no wider mode of an old one survives.
 */
export async function openJsonl(cwd: string, file: string, mode = 0o644): Promise<JsonlFile> {
  const path = resolve(cwd, file);
  try {
    await mkdir(dirname(path), { recursive: true });
  } catch (error) {
    throw writeError(error, path);
  }
  const out = await createAtomicWriteStream(path, mode);
  let lines = 0;
  return {
    path,
    get lines() {
      return lines;
    },
    async write(value) {
      lines++;
      await writeLine(out.stream, `${JSON.stringify(value)}\n`);
    },
    close: () => out.commit(),
    abort: () => out.abort(),
  };
}

/** Writes `values` (already read) into `file` as JSONL; returns where and how many lines. */
export async function writeJsonl(
  cwd: string,
  file: string,
  values: Iterable<unknown>,
): Promise<{ path: string; lines: number }> {
  const out = await openJsonl(cwd, file);
  try {
    for (const value of values) await out.write(value);
  } catch (error) {
    await out.abort();
    throw error;
  }
  await out.close();
  return { path: out.path, lines: out.lines };
}
