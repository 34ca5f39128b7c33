/** `-o out.jsonl` of the inspection commands: one JSON document per line, written as items arrive. */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

export interface JsonlFile {
  /** The absolute path written. */
  path: string;
  write(value: unknown): Promise<void>;
  /** Lines written so far. */
  readonly lines: number;
  close(): Promise<void>;
}

/**
 * Creates (or truncates) `file`, relative to `cwd`, with its parent folders. `mode` 0o600 keeps a
 * file that holds credentials (signed URLs) readable by its owner only.
 */
export async function openJsonl(cwd: string, file: string, mode = 0o644): Promise<JsonlFile> {
  const path = resolve(cwd, file);
  await mkdir(dirname(path), { recursive: true });
  const stream = createWriteStream(path, { mode });
  await once(stream, 'open');
  await chmod(path, mode); // `mode` applies only to a new file; an existing one is truncated and narrowed too
  let lines = 0;
  return {
    path,
    get lines() {
      return lines;
    },
    async write(value) {
      lines++;
      if (!stream.write(`${JSON.stringify(value)}\n`)) await once(stream, 'drain');
    },
    close: () =>
      new Promise<void>((done, fail) => stream.end((error?: Error | null) => (error ? fail(error) : done()))),
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
  } finally {
    await out.close();
  }
  return { path: out.path, lines: out.lines };
}
