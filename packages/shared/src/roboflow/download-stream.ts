/**
 * A download read as a stream of bytes in order, for a consumer that takes the file as it arrives
 * (the export's safe extractor), so nothing is written to disk and read back on a fast link.
 *
 * The first GET asks for `bytes=0-` and is the stream, paced by the consumer. If after `probeMs` it
 * would still need longer than that (a link that caps each connection), up to `connections - 1` more
 * ranged GETs fetch parts from the back, as the file download does (ranged-download.ts); their bytes
 * go to one exclusive temp file beside `spillTo` (memory is the scarcer resource: a part may be
 * 8 MiB and many files are in flight), and when the first stream reaches them it is closed and the
 * parts are read back from that file in order. The temp file is removed whatever happens.
 *
 * The stream's length is checked against the file's size: a short or long body fails the stream at
 * its end, so a consumer that commits only after the stream ended commits only a whole file.
 */
import { Readable } from 'node:stream';
import { mkdir, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { RfbatchError } from '../errors.js';
import { isNoSpace, openTempFor, writeError } from '../safe-write.js';
import type { ConnectionLimiter, DownloadOptions } from './client.types.js';
import { networkError } from './network-error.js';
import {
  fetchPartInto,
  MultiConnectionTransfer,
  openFront,
  RANGE_DEFAULTS,
  type Part,
  type Response,
} from './ranged-download.js';
import { asDownloadError, describeSignedUrl } from './transfer-error.js';
import { inSpan, setSpanAttributes, SpanKind } from '../telemetry/spans.js';

/** Bytes read back from the spill file at a time. */
const READ_BACK_BYTES = 1024 * 1024;

export interface StreamedFile {
  /** The file's bytes in order; fails (after the last byte) when the length does not match. */
  body: Readable;
  /** The file's size when the server told it (Content-Range total or Content-Length). */
  size: number | undefined;
}

/**
 * Opens `url` as a stream and hands it to `consume`; resolves with what `consume` returns and the
 * byte count, once the stream was read to its end with the right length. `spillTo` names where parts fetched by extra
 * connections are kept until the stream reaches them (a temp file beside it). Holds one connection
 * of `range.limiter` for the whole transfer, and the extra ones only while they are free.
 */
async function streamOnce<T>(
  url: string,
  spillTo: string,
  opts: DownloadOptions,
  consume: (file: StreamedFile) => Promise<T>,
): Promise<{ value: T; bytes: number }> {
  const limiter = opts.range?.limiter;
  await limiter?.acquire(opts.signal);
  const transfer = new StreamTransfer(url, spillTo, opts, limiter);
  try {
    const file = await transfer.open();
    const value = await consume(file);
    transfer.checkComplete();
    return { value, bytes: transfer.bytes };
  } catch (error) {
    // The consumer's own refusal first (e.g. an unsafe archive), else what broke the transfer.
    if (error instanceof RfbatchError) throw error;
    throw transfer.failure?.error ?? transfer.normalise(error);
  } finally {
    await transfer.close();
    limiter?.release();
  }
}

/** streamOnce in a client span (the URL without its query), with the bytes received. */
export function streamDownload<T>(
  url: string,
  spillTo: string,
  opts: DownloadOptions,
  consume: (file: StreamedFile) => Promise<T>,
): Promise<{ value: T; bytes: number }> {
  const attributes = { 'http.request.method': 'GET', 'url.full': describeSignedUrl(url) };
  return inSpan('signed-url GET', { kind: SpanKind.CLIENT, attributes }, async () => {
    const done = await streamOnce(url, spillTo, opts, consume);
    setSpanAttributes({ 'http.response.body.size': done.bytes });
    return done;
  });
}

class StreamTransfer extends MultiConnectionTransfer {
  private parts: Part[] = [];
  private size: number | undefined;
  /** The part the first stream is in; parts from `back` on are taken by the other connections. */
  private front = 0;
  private back = 0;
  /** Bytes handed to the consumer. */
  private delivered = 0;
  get bytes(): number {
    return this.delivered;
  }
  private ended = false;
  private readonly fetched = new Map<number, Promise<void>>();
  private readonly lanes: Promise<void>[] = [];
  private spill: Promise<{ tmp: string; handle: FileHandle }> | undefined;
  private probe: NodeJS.Timeout | undefined;
  private frontReceived = 0;

  constructor(
    url: string,
    private readonly spillTo: string,
    opts: DownloadOptions,
    private readonly limiter: ConnectionLimiter | undefined,
  ) {
    super(url, opts);
  }

  normalise(error: unknown): unknown {
    if (error instanceof RfbatchError) return error;
    if (isNoSpace(error)) return writeError(error, this.spillTo);
    return asDownloadError(networkError(error, this.what, this.timeoutMs), error);
  }

  async open(): Promise<StreamedFile> {
    const opened = await openFront(this.url, this.what, this.timeoutMs, this.signal, this.opts);
    if (!opened) {
      // 416 to `bytes=0-`: the object is empty, there is nothing to range over or to read.
      this.size = 0;
      this.ended = true;
      return { body: Readable.from([]), size: 0 };
    }
    this.parts = opened.parts;
    this.back = this.parts.length;
    this.size = opened.total;
    if (this.parts.length > 1 && (this.opts.range?.connections ?? 1) > 1) {
      const probeMs = this.opts.range?.probeMs ?? RANGE_DEFAULTS.probeMs;
      const started = performance.now();
      this.probe = setTimeout(() => this.maybeWiden(started), Math.max(0, probeMs));
    }
    return { body: Readable.from(this.read(opened.res), { objectMode: false }), size: opened.total };
  }

  /** More connections when the first stream, at its rate so far, would need longer than the probe. */
  private maybeWiden(started: number): void {
    if (this.ended || this.failure) return;
    const elapsed = Math.max(1, performance.now() - started);
    const rate = this.frontReceived / elapsed;
    const left = this.parts[this.parts.length - 1]!.end - this.frontReceived;
    if (rate !== 0 && left / rate <= elapsed) return;
    const connections = this.opts.range?.connections ?? 1;
    for (let i = 1; i < Math.min(connections, this.parts.length); i++) {
      if (this.limiter && !this.limiter.tryAcquire()) break;
      this.lanes.push(this.helper().finally(() => this.limiter?.release()));
    }
  }

  protected count(bytes: number): void {
    this.opts.onProgress?.(bytes);
  }

  /** The bytes in order: the first stream's, then the other connections' parts from the spill file. */
  private async *read(res: Response): AsyncGenerator<Buffer> {
    let at = 0;
    let end = this.parts[0]!.end;
    let cut = false;
    try {
      reading: for await (const data of res.body) {
        if (this.failure) break;
        let chunk = data as Buffer;
        while (chunk.length > 0) {
          if (at === end)
            throw this.error(
              `sent more than the ${end} bytes it announced`,
              'the storage service misbehaved; it is retried',
            );
          const take = Math.min(chunk.length, end - at);
          const piece = take === chunk.length ? chunk : chunk.subarray(0, take);
          this.frontReceived += take;
          this.count(take);
          at += take;
          this.delivered += take;
          chunk = chunk.subarray(take);
          yield piece;
          if (at === end && this.front + 1 < this.parts.length) {
            if (this.front + 1 >= this.back) {
              cut = true; // the rest is other connections'
              break reading;
            }
            end = this.parts[++this.front]!.end;
          }
        }
      }
    } catch (error) {
      throw this.failure ? this.failure.error : error;
    } finally {
      if (cut || this.failure) res.body.destroy();
    }
    if (this.failure) throw this.failure.error;
    const owned = Number.isFinite(end) ? end : at;
    if (at !== owned)
      throw this.error(
        `ended after ${at} of ${owned} bytes`,
        'the connection broke mid-file; it is downloaded again',
      );
    // Every part after the first stream's was claimed by another connection (front + 1 >= back).
    for (let i = this.front + 1; i < this.parts.length; i++) yield* this.readBack(i);
    this.ended = true;
  }

  /** Part `i` from the spill file, once its connection has fetched it. */
  private async *readBack(i: number): AsyncGenerator<Buffer> {
    const part = this.parts[i]!;
    await this.fetched.get(i);
    if (this.failure) throw this.failure.error;
    const { handle } = await this.spill!;
    for (let at = part.start; at < part.end;) {
      const length = Math.min(READ_BACK_BYTES, part.end - at);
      const { bytesRead, buffer } = await handle.read(Buffer.allocUnsafe(length), 0, length, at);
      if (bytesRead === 0) throw this.error('lost a part it had fetched', 'it is downloaded again');
      at += bytesRead;
      this.delivered += bytesRead;
      yield bytesRead === length ? buffer : buffer.subarray(0, bytesRead);
    }
  }

  /** The next part from the back for another connection, never the one the first stream is in. */
  private claimBack(): number | undefined {
    if (this.failure || this.ended || this.back - 1 <= this.front) return undefined;
    return --this.back;
  }

  /** Another connection: fetches parts from the back into the spill file until none is left. */
  private async helper(): Promise<void> {
    for (let i = this.claimBack(); i !== undefined; i = this.claimBack()) {
      const fetching = this.fetchPart(this.parts[i]!);
      this.fetched.set(
        i,
        fetching.catch(() => {}),
      );
      try {
        await fetching;
      } catch (error) {
        this.fail(this.normalise(error));
        return;
      }
    }
  }

  private async fetchPart(part: Part): Promise<void> {
    this.spill ??= mkdir(dirname(this.spillTo), { recursive: true }).then(() =>
      openTempFor(this.spillTo, 0o600, { readable: true }),
    );
    const { handle } = await this.spill;
    await fetchPartInto(this.part, part, handle);
  }

  /** After the consumer is done: the whole file went through it, no more and no less. */
  checkComplete(): void {
    if (this.failure) throw this.failure.error;
    const want = this.size ?? this.opts.expectedBytes;
    if (!this.ended && this.parts.length > 0)
      throw this.error('was not read to its end', 'the consumer stopped early; it is downloaded again');
    if (want !== undefined && this.delivered !== want)
      throw this.error(
        `ended after ${this.delivered} of ${want} bytes`,
        'the connection broke mid-file; it is downloaded again',
      );
  }

  async close(): Promise<void> {
    clearTimeout(this.probe);
    if (!this.ended) this.abort.abort();
    this.ended = true;
    await Promise.allSettled(this.lanes);
    const spill = await this.spill?.catch(() => undefined);
    if (spill) {
      await spill.handle.close().catch(() => {});
      await rm(spill.tmp, { force: true });
    }
  }
}

/** The shape of {@link streamDownload}, for services that take it as an option (a test may wrap it). */
export type StreamDownload = typeof streamDownload;
