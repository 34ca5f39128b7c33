/**
 * A download over several ranged GETs at once, so that a link which caps each connection is filled
 * even by one large file. The first GET asks for `bytes=0-`: its Content-Range tells the size, and it
 * goes on reading the file from the front. If after `probeMs` it would still need longer than that,
 * up to `connections - 1` more GETs fetch parts from the back; it stops where the parts others took
 * begin. Every part is written at its offset into
 * one exclusive temp file, its length checked, then one fsync and a rename, as a single-stream download.
 * A server that ignores Range (200) is read as one stream; an empty file (416) is fetched plainly.
 * A part whose GET breaks (reset, cut short, 5xx) is fetched again on its own, up to `PART_TRIES`
 * times, over the same offsets; the bytes it already reported are not reported twice. What still fails
 * fails the whole try (nothing at `dest`); the caller's loop tries again.
 */
import { mkdir, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { getGlobalDispatcher, request, type Dispatcher } from 'undici';
import { ErrorCode, RfbatchError } from '../errors.js';
import { isNoSpace, openTempFor, writeAt, writeError } from '../safe-write.js';
import type { ConnectionLimiter, DownloadOptions, DownloadToFile } from './client.types.js';
import { ROBOFLOW_API_DEFAULTS } from './defaults.js';
import { networkError } from './network-error.js';
import { asDownloadError, describeSignedUrl, refusedDownload } from './transfer-error.js';

export const RANGE_DEFAULTS = {
  minBytes: 1024 * 1024,
  partBytes: 8 * 1024 * 1024,
  /** Smallest part a file is split into (a GET costs a round trip). */
  minPartBytes: 256 * 1024,
  /** How long the first stream runs alone before more connections may join it. */
  probeMs: 100,
} as const;

/** GETs of one part (its first and its retries) before the part fails the transfer. */
export const PART_TRIES = 3;
/** Pause before a part's next GET, times the tries so far. */
const PART_RETRY_MS = 100;

/** Bytes gathered before one positional writev. */
const FLUSH_BYTES = 1024 * 1024;

/** A counting semaphore: `acquire` waits in order; `tryAcquire` never waits, nor jumps the queue. */
export class ConnectionBudget implements ConnectionLimiter {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly size: number) {
    this.free = Math.max(1, size);
  }

  tryAcquire(): boolean {
    if (this.free === 0) return false;
    this.free--;
    return true;
  }

  acquire(signal?: AbortSignal): Promise<void> {
    if (this.tryAcquire()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const granted = () => {
        signal?.removeEventListener('abort', aborted);
        resolve();
      };
      const aborted = () => {
        const at = this.waiting.indexOf(granted);
        if (at >= 0) this.waiting.splice(at, 1);
        reject(
          new RfbatchError(
            ErrorCode.cancelled,
            'the download was cancelled while it waited for a connection',
          ),
        );
      };
      if (signal?.aborted) return aborted();
      signal?.addEventListener('abort', aborted, { once: true });
      this.waiting.push(granted);
    });
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

export interface Part {
  start: number;
  /** Exclusive. */
  end: number;
}

/** `bytes 0-99/1234` → its numbers; `*` as the total is undefined. */
function parseContentRange(value: unknown): { start: number; end: number; total?: number } | undefined {
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(String(value ?? '').trim());
  if (!m) return undefined;
  const total = m[3] === '*' ? undefined : Number(m[3]);
  return { start: Number(m[1]), end: Number(m[2]), ...(total === undefined ? {} : { total }) };
}

/** Parts of about `size / connections` bytes, within [minPartBytes, partBytes]. */
function planParts(size: number, connections: number, partBytes: number): Part[] {
  const each = Math.min(
    Math.max(partBytes, 1),
    Math.max(RANGE_DEFAULTS.minPartBytes, Math.ceil(size / connections)),
  );
  const parts: Part[] = [];
  for (let start = 0; start < size; start += each) parts.push({ start, end: Math.min(size, start + each) });
  return parts;
}

/** Gathers chunks and writes them at their offset about a MiB at a time. */
class PositionalWriter {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private at: number;

  constructor(
    private readonly handle: FileHandle,
    position: number,
  ) {
    this.at = position;
  }

  async push(chunk: Buffer): Promise<void> {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered >= FLUSH_BYTES) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.buffered === 0) return;
    const chunks = this.chunks;
    const length = this.buffered;
    this.chunks = [];
    this.buffered = 0;
    await writeAt(this.handle, chunks, this.at, length);
    this.at += length;
  }
}

export type Response = Awaited<ReturnType<typeof request>>;

/** A part's answer as it may be shown: its status, and its Content-Range only when well-formed. */
function answerOf(res: Response): string {
  const range = String(res.headers['content-range'] ?? '');
  return /^bytes [\d*]+(-\d+)?\/[\d*]+$/.test(range) ? `Content-Range ${range}` : `status ${res.statusCode}`;
}

/** One GET with `Range`; an HTTP error answer (but 416) is thrown as the single stream throws it. */
async function rangeGet(
  url: string,
  rangeHeader: string,
  what: string,
  timeoutMs: number,
  signal: AbortSignal,
  dispatcher: Dispatcher | undefined,
): Promise<Response> {
  let res: Response;
  try {
    res = await request(url, {
      dispatcher: dispatcher ?? getGlobalDispatcher(),
      method: 'GET',
      headers: { range: rangeHeader },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal,
    });
  } catch (error) {
    throw asDownloadError(networkError(error, what, timeoutMs), error);
  }
  if ((res.statusCode < 200 || res.statusCode >= 300) && res.statusCode !== 416)
    throw await refusedDownload(res, what);
  return res;
}

/** What fetching one part needs of the transfer it belongs to. */
export interface PartTransfer {
  get(rangeHeader: string): Promise<Response>;
  what(): string;
  /** True once the transfer failed elsewhere: the part stops reading. */
  stopped(): boolean;
  count(bytes: number): void;
}

/**
 * One part over its own ranged GETs, written at its offset into `handle`: a retryable failure (the
 * GET broke, the body was short, a 5xx) is tried again for this part alone, `PART_TRIES` in all. Each
 * retry rewrites the same offsets; only bytes beyond what an earlier try reported are counted.
 */
export async function fetchPartInto(t: PartTransfer, part: Part, handle: FileHandle): Promise<void> {
  let reported = 0;
  for (let attempt = 1; ; attempt++) {
    let seen = 0;
    const once: PartTransfer = {
      ...t,
      count: (bytes) => {
        seen += bytes;
        if (seen > reported) {
          t.count(seen - reported);
          reported = seen;
        }
      },
    };
    try {
      return await fetchPartOnce(once, part, handle);
    } catch (error) {
      // Only a broken transfer is worth another GET: never a full disk, a write error or a cancel.
      if (t.stopped() || attempt >= PART_TRIES || !transferRetryable(error)) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, PART_RETRY_MS * attempt));
    if (t.stopped()) throw stoppedError(t);
  }
}

function transferRetryable(error: unknown): boolean {
  if (isNoSpace(error)) return false;
  if (error instanceof RfbatchError) return error.retryable;
  return networkError(error, 'GET').retryable;
}

/** A part cut off because its transfer ended elsewhere (failed or cancelled): never a success. */
function stoppedError(t: PartTransfer): RfbatchError {
  return new RfbatchError(ErrorCode.cancelled, `${t.what()} was stopped before a part was complete`, {
    retryable: false,
  });
}

/**
 * One part over one ranged GET: the answer must be that exact range, and its body exactly the part's
 * length (else a retryable error).
 */
async function fetchPartOnce(t: PartTransfer, part: Part, handle: FileHandle): Promise<void> {
  const error = (message: string, hint: string) =>
    new RfbatchError(ErrorCode.download, `${t.what()} ${message}`, { retryable: true, hint });
  const length = part.end - part.start;
  const range = `bytes=${part.start}-${part.end - 1}`;
  const res = await t.get(range);
  const got = res.statusCode === 206 ? parseContentRange(res.headers['content-range']) : undefined;
  if (!got || got.start !== part.start || got.end !== part.end - 1) {
    await res.body.dump();
    throw error(
      `answered ${answerOf(res)} to Range ${range}`,
      'the storage service did not serve the part asked for; it is retried',
    );
  }
  const writer = new PositionalWriter(handle, part.start);
  let seen = 0;
  for await (const data of res.body) {
    if (t.stopped()) throw stoppedError(t);
    const chunk = data as Buffer;
    if (seen + chunk.length > length)
      throw error(
        `sent more than the ${length} bytes of a part`,
        'the storage service misbehaved; it is retried',
      );
    await writer.push(chunk);
    t.count(chunk.length);
    seen += chunk.length;
  }
  await writer.flush();
  if (seen !== length)
    throw error(
      `ended a part after ${seen} of ${length} bytes`,
      'the connection broke mid-file; it is downloaded again',
    );
}

export interface Front {
  /** The answer to `Range: bytes=0-`, its body unread. */
  res: Response;
  /** The file's size, when the answer tells it. */
  total: number | undefined;
  /** The parts to fetch: several when the server ranges and the file is large enough, else one. */
  parts: Part[];
}

/**
 * The first GET of a ranged download (`bytes=0-`), its answer checked: a range that does not start at
 * 0, or a size other than `expectedBytes`, is a retryable error. Undefined for 416 (an empty object,
 * nothing to range over: fetch it plainly).
 */
export async function openFront(
  url: string,
  what: string,
  timeoutMs: number,
  signal: AbortSignal,
  opts: DownloadOptions,
): Promise<Front | undefined> {
  const first = await rangeGet(url, 'bytes=0-', what, timeoutMs, signal, opts.dispatcher);
  if (first.statusCode === 416) {
    await first.body.dump();
    return undefined;
  }
  const announced = Number(first.headers['content-length'] ?? Number.NaN);
  let total: number | undefined = Number.isFinite(announced) ? announced : undefined;
  let ranged = false;
  if (first.statusCode === 206) {
    const got = parseContentRange(first.headers['content-range']);
    if (!got || got.start !== 0) {
      await first.body.dump();
      throw new RfbatchError(ErrorCode.download, `${what} answered a range it was not asked for`, {
        retryable: true,
        hint: 'the storage service misbehaved; it is retried',
      });
    }
    if (got.total !== undefined) {
      total = got.total;
      ranged = true;
    }
  }
  const expected = opts.expectedBytes;
  if (total !== undefined && expected !== undefined && total !== expected) {
    await first.body.dump();
    throw new RfbatchError(
      ErrorCode.download,
      `${what} announces ${total} bytes, but ${expected} were expected`,
      {
        retryable: true,
        hint: 'the file changed on the server; list the batch again',
      },
    );
  }
  const range = opts.range;
  const split =
    range !== undefined &&
    ranged &&
    total !== undefined &&
    total >= (range.minBytes ?? RANGE_DEFAULTS.minBytes);
  const parts = split
    ? planParts(total!, range.connections, range.partBytes ?? RANGE_DEFAULTS.partBytes)
    : [{ start: 0, end: total ?? Number.POSITIVE_INFINITY }];
  return { res: first, total, parts };
}

/** The ranged download; `plain` is the single-stream one (an empty file is fetched with it). */
export async function rangedDownload(
  url: string,
  dest: string,
  opts: DownloadOptions,
  plain: DownloadToFile,
): Promise<number> {
  const range = opts.range;
  const limiter = range?.limiter;
  await limiter?.acquire(opts.signal);
  try {
    if (!range || range.connections <= 1) return await plain(url, dest, { ...opts, range: undefined });
    return await new RangedTransfer(url, dest, opts, range.connections, limiter).run(plain);
  } finally {
    limiter?.release();
  }
}

/**
 * What a transfer of one URL over several connections keeps: how it is named in errors (no query),
 * its timeout, one abort for all its GETs, and the first failure (which aborts the others).
 */
export abstract class MultiConnectionTransfer {
  protected readonly what: string;
  protected readonly timeoutMs: number;
  protected readonly abort = new AbortController();
  protected readonly signal: AbortSignal;
  failure: { error: unknown } | undefined;

  constructor(
    protected readonly url: string,
    protected readonly opts: DownloadOptions,
  ) {
    this.what = `GET ${describeSignedUrl(url)}`;
    this.timeoutMs = opts.timeoutMs ?? ROBOFLOW_API_DEFAULTS.transferTimeoutMs;
    this.signal = opts.signal ? AbortSignal.any([opts.signal, this.abort.signal]) : this.abort.signal;
  }

  protected error(message: string, hint: string): RfbatchError {
    return new RfbatchError(ErrorCode.download, `${this.what} ${message}`, { retryable: true, hint });
  }

  protected fail(error: unknown): void {
    if (this.failure) return;
    this.failure = { error };
    this.abort.abort();
  }

  protected abstract count(bytes: number): void;

  /** What a part's GET needs of this transfer. */
  protected readonly part: PartTransfer = {
    get: (range) => rangeGet(this.url, range, this.what, this.timeoutMs, this.signal, this.opts.dispatcher),
    what: () => this.what,
    stopped: () => this.failure !== undefined || this.signal.aborted,
    count: (bytes) => this.count(bytes),
  };
}

class RangedTransfer extends MultiConnectionTransfer {
  private parts: Part[] = [];
  /** The part the first stream is in; parts from `back` on are taken by the other connections. */
  private front = 0;
  private back = 0;
  private received = 0;

  constructor(
    url: string,
    private readonly dest: string,
    opts: DownloadOptions,
    private readonly connections: number,
    private readonly limiter: ConnectionLimiter | undefined,
  ) {
    super(url, opts);
  }

  /** The next part from the back for another connection, never the one the first stream is in. */
  private claimBack(): Part | undefined {
    if (this.failure || this.back - 1 <= this.front) return undefined;
    return this.parts[--this.back];
  }

  async run(plain: DownloadToFile): Promise<number> {
    await mkdir(dirname(this.dest), { recursive: true });
    const opened = await openFront(this.url, this.what, this.timeoutMs, this.signal, this.opts);
    // Nothing to range over (an empty object): the plain GET gets it and checks it.
    if (!opened) return plain(this.url, this.dest, { ...this.opts, range: undefined });
    const { res: first, total } = opened;
    const range = this.opts.range!;
    this.parts = opened.parts;
    this.back = this.parts.length;
    const expected = this.opts.expectedBytes;

    const { tmp, handle } = await openTempFor(this.dest).catch(async (error: unknown) => {
      first.body.destroy();
      throw isNoSpace(error) ? writeError(error, this.dest) : error;
    });
    const front = this.readFront(first, handle).catch((e: unknown) => this.fail(e));
    const lanes: Promise<void>[] = [front];
    if (this.parts.length > 1 && (await this.frontIsSlow(front, range.probeMs ?? RANGE_DEFAULTS.probeMs))) {
      for (let i = 1; i < Math.min(this.connections, this.parts.length); i++) {
        if (this.limiter && !this.limiter.tryAcquire()) break;
        lanes.push(this.helper(handle).finally(() => this.limiter?.release()));
      }
    }
    await Promise.all(lanes);
    try {
      if (this.failure) throw this.failure.error;
      const want = total ?? expected;
      if (want !== undefined && this.received !== want)
        throw this.error(
          `ended after ${this.received} of ${want} bytes`,
          'the connection broke mid-file; it is downloaded again',
        );
      await handle.sync();
      await handle.close();
    } catch (error) {
      await handle.close().catch(() => {});
      await rm(tmp, { force: true });
      if (isNoSpace(error)) throw writeError(error, this.dest);
      throw error instanceof RfbatchError
        ? error
        : asDownloadError(networkError(error, this.what, this.timeoutMs), error);
    }
    await rename(tmp, this.dest);
    return this.received;
  }

  /**
   * Whether more connections are worth their round trips: after `probeMs` of the first stream, it
   * would still need more than that long at its rate so far (a fast link is left to one stream).
   */
  private async frontIsSlow(front: Promise<void>, probeMs: number): Promise<boolean> {
    if (probeMs <= 0) return true;
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const ended = await Promise.race([
      front.then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), probeMs))),
    ]);
    clearTimeout(timer);
    if (ended || this.failure) return false;
    const rate = this.received / Math.max(1, performance.now() - started);
    const left = this.parts[this.parts.length - 1]!.end - this.received;
    return rate === 0 || left / rate > probeMs;
  }

  protected count(bytes: number): void {
    this.received += bytes;
    this.opts.onProgress?.(bytes);
  }

  /** The first stream: reads from 0 through every part no other connection took. */
  private async readFront(res: Response, handle: FileHandle): Promise<void> {
    const writer = new PositionalWriter(handle, 0);
    let at = 0;
    let end = this.parts[0]!.end;
    reading: for await (const data of res.body) {
      if (this.failure) break;
      let chunk = data as Buffer;
      while (chunk.length > 0) {
        if (at === end) {
          if (this.front + 1 >= this.back) break reading; // the rest is another connection's
          end = this.parts[++this.front]!.end;
        }
        const take = Math.min(chunk.length, end - at);
        const piece = take === chunk.length ? chunk : chunk.subarray(0, take);
        await writer.push(piece);
        this.count(take);
        at += take;
        chunk = chunk.subarray(take);
      }
    }
    await writer.flush();
    if (this.failure) return;
    const owned = Number.isFinite(end) ? end : at;
    if (at !== owned)
      throw this.error(
        `ended after ${at} of ${owned} bytes`,
        'the connection broke mid-file; it is downloaded again',
      );
  }

  /** Another connection: fetches parts from the back until none is left. */
  private async helper(handle: FileHandle): Promise<void> {
    try {
      for (let part = this.claimBack(); part; part = this.claimBack()) await this.fetchPart(part, handle);
    } catch (error) {
      this.fail(error);
    }
  }

  private fetchPart(part: Part, handle: FileHandle): Promise<void> {
    return fetchPartInto(this.part, part, handle);
  }
}
