import { mkdir, opendir, stat } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { once } from 'node:events';
import { createAtomicWriteStream, eachLimited, parseBucketUrl, type BucketLocation } from '@rfbatch/shared';
import type { ObjectStore } from './object-store.js';
import { openObjectStore } from './open-store.js';

/** Files copied at once by the tree operations. */
const TREE_CONCURRENCY = 8;

/**
 * The work dir mirrored to a bucket prefix (`RFBATCH_WORK_URL`), so ingest, jobs and export processes
 * on different hosts share only Redis and the bucket. Every run file is written once and never changed
 * (manifest, plan, skipped list, refused entries, download list, extracted outputs): a process writes
 * it locally as before and pushes it; a process that lacks it pulls it (whole, into its own work dir,
 * atomically) or reads a byte range of it with a ranged GET. A local copy is trusted once present.
 */
export class WorkMirror {
  private readonly root: string;
  private readonly store: ObjectStore;
  private readonly location: BucketLocation;

  constructor(workDir: string, workUrl: string) {
    this.root = resolve(workDir);
    this.location = parseBucketUrl(workUrl, { allowGlob: false });
    this.store = openObjectStore(this.location);
  }

  /** `s3://bucket/prefix/` of the mirror, for messages. */
  get url(): string {
    return this.location.url;
  }

  private keyOf(path: string): string {
    const rel = relative(this.root, resolve(path));
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel))
      throw new Error(`internal: "${path}" is not a file of the work dir ${this.root}`);
    return `${this.location.prefix}${rel.split(sep).join('/')}`;
  }

  /** Copies a committed local file to the mirror (one PUT, multipart when large; complete or absent). */
  async push(path: string): Promise<void> {
    await this.putFile(path, this.keyOf(path));
  }

  private async putFile(path: string, key: string): Promise<void> {
    const { size } = await stat(path);
    await this.store.put(key, createReadStream(path), { size });
  }

  /**
   * Makes sure `path` exists locally: fetched whole from the mirror when missing. False when neither
   * has it (the file was never written: the caller says what that means).
   */
  async pull(path: string): Promise<boolean> {
    if (await exists(path)) return true;
    const key = this.keyOf(path);
    if (!(await this.store.head(key))) return false;
    await this.download(key, path);
    return true;
  }

  /** True when the mirror holds the file at `path` (whatever the local copy). */
  async has(path: string): Promise<boolean> {
    return (await this.store.head(this.keyOf(path))) !== undefined;
  }

  /**
   * Bytes `[start, end)` of the file at `path`: from the local copy when present, else a ranged GET.
   * `fresh` (a file a retry may write again, such as the download list) always reads the mirror.
   */
  async readRange(
    path: string,
    range: { start: number; end: number },
    { fresh = false } = {},
  ): Promise<Readable> {
    if (!fresh && (await exists(path)))
      return createReadStream(path, { start: range.start, end: range.end - 1 });
    return this.store.get(this.keyOf(path), range);
  }

  /** Replaces the local copy of `path` with the mirror's (a file a retry may have written again). */
  async refresh(path: string): Promise<boolean> {
    const key = this.keyOf(path);
    if (!(await this.store.head(key))) return exists(path);
    await this.download(key, path);
    return true;
  }

  /** Pushes a file or every regular file of a folder under the work dir (keys follow the paths). */
  async pushPath(path: string): Promise<number> {
    const files = await filesAt(path);
    await eachLimited(files, TREE_CONCURRENCY, (file) => this.push(file));
    return files.length;
  }

  /**
   * Pushes a run's output file or folder `path` (under the output folder `outDir`, which need not be in
   * the work dir) to `runs/<run>/output/…`, where the process that finalizes the run pulls it from.
   */
  async pushOutput(runId: string, outDir: string, path: string): Promise<number> {
    const files = await filesAt(path);
    const base = this.outputPrefix(runId);
    await eachLimited(files, TREE_CONCURRENCY, (file) =>
      this.putFile(file, `${base}${relative(resolve(outDir), file).split(sep).join('/')}`),
    );
    return files.length;
  }

  /** Pulls the run's pushed outputs into `outDir`, each file that is not there yet. */
  async pullOutputs(runId: string, outDir: string): Promise<number> {
    return this.pullPrefix(this.outputPrefix(runId), outDir);
  }

  private outputPrefix(runId: string): string {
    return `${this.location.prefix}runs/${runId}/output/`;
  }

  /** Pulls every object under `dir`'s key prefix that is missing locally (e.g. a run's refused/ entries). */
  async pullTree(dir: string): Promise<number> {
    return this.pullPrefix(`${this.keyOf(join(dir, 'x')).slice(0, -1)}`, dir);
  }

  private async pullPrefix(prefix: string, dir: string): Promise<number> {
    const missing: Array<{ key: string; path: string }> = [];
    for await (const object of this.store.list(prefix)) {
      const parts = object.key.slice(prefix.length).split('/');
      // Only what a push could have written: no empty, "." or ".." segment leads outside `dir`.
      if (parts.some((p) => p === '' || p === '.' || p === '..')) continue;
      const path = join(dir, ...parts);
      if (!(await exists(path))) missing.push({ key: object.key, path });
    }
    await eachLimited(missing, TREE_CONCURRENCY, ({ key, path }) => this.download(key, path));
    return missing.length;
  }

  private async download(key: string, path: string): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    const out = await createAtomicWriteStream(path);
    try {
      for await (const chunk of await this.store.get(key))
        if (!out.stream.write(chunk)) await once(out.stream, 'drain');
      await out.commit();
    } catch (error) {
      await out.abort();
      throw error;
    }
  }
}

/** The file at `path`, or the regular files under the folder at `path`, or nothing when it is absent. */
async function filesAt(path: string): Promise<string[]> {
  const st = await stat(path).catch(() => undefined);
  if (!st) return [];
  if (!st.isDirectory()) return [path];
  const files: string[] = [];
  for await (const file of regularFiles(path)) files.push(file);
  return files;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Every regular file under `dir` (links and special files are not followed). */
export async function* regularFiles(dir: string): AsyncGenerator<string> {
  const pending = [dir];
  while (pending.length) {
    const at = pending.pop()!;
    for await (const entry of await opendir(at)) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) pending.push(path);
      else if (entry.isFile()) yield path;
    }
  }
}

const mirrors = new Map<string, WorkMirror>();

/** The mirror of a configuration, or undefined without `RFBATCH_WORK_URL` (a local work dir only). */
export function workMirrorOf(config: {
  workDir: string;
  workUrl?: string | undefined;
}): WorkMirror | undefined {
  if (!config.workUrl) return undefined;
  const id = `${resolve(config.workDir)}\n${config.workUrl}`;
  let mirror = mirrors.get(id);
  if (!mirror) mirrors.set(id, (mirror = new WorkMirror(config.workDir, config.workUrl)));
  return mirror;
}
