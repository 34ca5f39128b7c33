import { rename, rm, type FileHandle } from 'node:fs/promises';
import { openTempFor, writeError, type ManifestEntry, type SkippedEntry } from '@rfbatch/shared';
import { remoteName } from './remote-name.js';
import { type PlanUnit } from '@rfbatch/shared';

/** When a unit is full: at `maxItems` items, or when the next item would take it over `maxBytes`. */
export interface UnitLimits {
  maxItems: number;
  maxBytes: number;
}

/** What the planner knows of an item before it gets its index, name and unit. */
export type ManifestItem = Omit<ManifestEntry, 'i' | 'name' | 'unit'>;

const FLUSH_BYTES = 64 * 1024;

/** Appends JSON lines through a small buffer, tracking the byte offset of the file. */
class LineFile {
  private buffer: string[] = [];
  private buffered = 0;
  offset = 0;

  private constructor(
    private readonly handle: FileHandle,
    readonly tmpPath: string,
    readonly finalPath: string,
  ) {}

  static async create(finalPath: string): Promise<LineFile> {
    const { tmp, handle } = await openTempFor(finalPath);
    return new LineFile(handle, tmp, finalPath);
  }

  /** Returns the byte range of the line. */
  async append(value: unknown): Promise<{ start: number; end: number }> {
    const line = `${JSON.stringify(value)}\n`;
    const start = this.offset;
    const size = Buffer.byteLength(line);
    this.offset += size;
    this.buffer.push(line);
    this.buffered += size;
    if (this.buffered >= FLUSH_BYTES) await this.flush();
    return { start, end: this.offset };
  }

  private async flush(): Promise<void> {
    if (this.buffered === 0) return;
    const text = this.buffer.join('');
    this.buffer = [];
    this.buffered = 0;
    await this.handle.write(text).catch((error: unknown) => {
      throw writeError(error, this.finalPath);
    });
  }

  /** Flushes, fsyncs and renames into place; on failure the temp file is removed. */
  async commit(): Promise<void> {
    try {
      await this.flush();
      await this.handle.sync();
      await this.handle.close();
      await rename(this.tmpPath, this.finalPath);
    } catch (error) {
      await this.discard();
      throw writeError(error, this.finalPath);
    }
  }

  async discard(): Promise<void> {
    await this.handle.close().catch(() => {});
    await rm(this.tmpPath, { force: true });
  }
}

/**
 * Writes a run's manifest (`manifest.jsonl`) as items stream in: each gets its index, its unique remote
 * name and its unit, and units are cut by `limits`. Nothing is held per item, only the current unit.
 * Files appear under their final names only on `commit`, so a crash never leaves half a manifest.
 */
export class ManifestWriter {
  private readonly units: PlanUnit[] = [];
  private current: PlanUnit | undefined;
  private count = 0;
  private bytes = 0;

  private constructor(
    private readonly manifest: LineFile,
    private readonly limits: UnitLimits,
  ) {}

  static async create(manifestPath: string, limits: UnitLimits): Promise<ManifestWriter> {
    return new ManifestWriter(await LineFile.create(manifestPath), limits);
  }

  get files(): number {
    return this.count;
  }
  get totalBytes(): number {
    return this.bytes;
  }

  async add(item: ManifestItem): Promise<ManifestEntry> {
    const size = item.size ?? 0;
    const cur = this.current;
    if (cur && (cur.count >= this.limits.maxItems || cur.bytes + size > this.limits.maxBytes)) {
      this.units.push(cur);
      this.current = undefined;
    }
    const unit = this.current?.n ?? this.units.length;
    const i = this.count;
    const entry: ManifestEntry = {
      i,
      source: item.source,
      name: remoteName(item.source, i),
      kind: item.kind,
      unit,
    };
    if (item.sourceBytes !== undefined) entry.sourceBytes = item.sourceBytes;
    if (item.size !== undefined) entry.size = item.size;
    if (item.mtimeMs !== undefined) entry.mtimeMs = item.mtimeMs;
    if (item.url !== undefined) entry.url = item.url;
    const range = await this.manifest.append(entry);
    if (this.current) {
      this.current.range.end = range.end;
      this.current.count++;
      this.current.bytes += size;
    } else {
      this.current = { n: unit, range, count: 1, bytes: size };
    }
    this.count++;
    this.bytes += size;
    return entry;
  }

  /** Completes the manifest and returns its units. */
  async commit(): Promise<PlanUnit[]> {
    if (this.current) this.units.push(this.current);
    this.current = undefined;
    await this.manifest.commit();
    return this.units;
  }

  async discard(): Promise<void> {
    await this.manifest.discard();
  }
}

/**
 * A manifest whose unit size depends on how many items there are: the first `lookahead` items wait
 * in memory (a few MB at most), and the writer is opened with `limitsFor(n)` once the count is known
 * (`n`: the run ended within the look-ahead) or known to be larger (`n` undefined).
 */
export class LookaheadWriter {
  private readonly head: ManifestItem[] = [];
  private writer: ManifestWriter | undefined;

  constructor(
    private readonly manifestPath: string,
    private readonly lookahead: number,
    private readonly limitsFor: (items: number | undefined) => UnitLimits,
  ) {}

  async add(item: ManifestItem): Promise<void> {
    if (this.writer) {
      await this.writer.add(item);
      return;
    }
    this.head.push(item);
    if (this.head.length > this.lookahead) await this.open(undefined);
  }

  /** The manifest with every item added (open, not yet committed). */
  async finish(): Promise<ManifestWriter> {
    return this.writer ?? (await this.open(this.head.length));
  }

  async discard(): Promise<void> {
    await this.writer?.discard();
  }

  private async open(items: number | undefined): Promise<ManifestWriter> {
    const writer = await ManifestWriter.create(this.manifestPath, this.limitsFor(items));
    this.writer = writer;
    for (const item of this.head.splice(0)) await writer.add(item);
    return writer;
  }
}

/** Writes `skipped.jsonl` and counts the reasons. */
export class SkippedWriter {
  readonly byReason: Record<string, number> = {};
  count = 0;

  private constructor(private readonly file: LineFile) {}

  static async create(skippedPath: string): Promise<SkippedWriter> {
    return new SkippedWriter(await LineFile.create(skippedPath));
  }

  async add(entry: SkippedEntry): Promise<void> {
    this.count++;
    this.byReason[entry.reason] = (this.byReason[entry.reason] ?? 0) + 1;
    await this.file.append(entry);
  }

  async commit(): Promise<void> {
    await this.file.commit();
  }

  async discard(): Promise<void> {
    await this.file.discard();
  }
}
