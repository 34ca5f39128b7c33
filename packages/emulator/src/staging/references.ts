/**
 * §2.4/§2.5 references ingests. The request is answered at once with the shard ids; the emulator then
 * fetches every URL itself (only loopback hosts unless `allowRemoteReferences`; others fail with
 * `unsafe-url-detected`), stores the bytes, and indexes each shard. A repeated `ingestId` (or, without
 * one, the same references again) is answered with `duplicated: true` and ingests nothing.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { randomUUID } from 'node:crypto';
import { ImageReferencesRequest, VideoReferencesRequest, type Reference } from '@rfbatch/shared';
import { authenticate, checkBatchId } from '../auth.js';
import { nowIso } from '../clock.js';
import type { Deps, IndexedShardListener } from '../context.js';
import { httpError, readJson, sendJson } from '../http.js';
import type { Router } from '../router.js';
import type { FailedFile, IngestRecord, ItemRecord, ShardRecord } from '../store.js';
import { ensureBatch } from './batches.js';
import { ingestStatusPayload } from './notifications.js';
import { MAX_IMAGE_BYTES, mimeOf } from './tar-ingest.js';

const FETCH_CONCURRENCY = 8;
const MAX_REFERENCES_FILE_BYTES = 256 * 1024 * 1024;

function isLoopbackUrl(raw: string): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export class ReferencesIngester implements IndexedShardListener {
  private readonly running = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly deps: Deps) {}

  register(router: Router): void {
    const base = '/data-staging/v1/external/:workspace/batches/:batchId/bulk-upload';
    router.add('POST', `${base}/image-references`, async (ctx) => {
      authenticate(ctx, this.deps.options);
      const batchId = checkBatchId(ctx.params.batchId);
      const parsed = ImageReferencesRequest.safeParse(await readJson(ctx.req));
      if (!parsed.success) throw httpError(400, `invalid references body: ${describe(parsed.error.issues)}`);
      const body = parsed.data;
      const refs =
        'imageReferences' in body
          ? body.imageReferences
          : await this.fetchReferencesFile(body.imageReferencesURL);
      const result = this.start('image', batchId, refs, body, ctx.query.get('displayName'));
      sendJson(ctx.res, 200, {
        status: 'ok',
        ingestId: result.ingestId,
        shardIds: result.shardIds,
        duplicated: result.duplicated,
      });
    });
    router.add('POST', `${base}/video-references`, async (ctx) => {
      authenticate(ctx, this.deps.options);
      const batchId = checkBatchId(ctx.params.batchId);
      const parsed = VideoReferencesRequest.safeParse(await readJson(ctx.req));
      if (!parsed.success) throw httpError(400, `invalid references body: ${describe(parsed.error.issues)}`);
      const body = parsed.data;
      const refs =
        'videoReferences' in body
          ? body.videoReferences
          : await this.fetchReferencesFile(body.videoReferencesURL);
      const result = this.start('video', batchId, refs, body, ctx.query.get('displayName'));
      sendJson(ctx.res, 200, { status: 'ok', ingestId: result.ingestId, duplicated: result.duplicated });
    });
  }

  /** After a restart: finish fetching ingests that were cut short. */
  resumeAll(): void {
    for (const ingest of Object.values(this.deps.store.state.ingests))
      if (!ingest.fetched) this.track(this.fetchAll(ingest));
  }

  /** Called by the indexer; sends the ingest-status notification once every shard is indexed. */
  shardIndexed(shard: ShardRecord): void {
    const ingest = Object.values(this.deps.store.state.ingests).find(
      (i) => i.batchId === shard.batchId && i.shardIds.includes(shard.shardId),
    );
    if (!ingest || ingest.notified || !ingest.fetched) return;
    const shards = ingest.shardIds.map((id) => this.deps.store.state.shards[id]);
    if (!shards.every((s) => s?.notified)) return;
    ingest.notified = true;
    this.deps.store.changed();
    const categories = ingest.categories.length ? ingest.categories : ['ingest-status'];
    if (!ingest.notificationsURL || !categories.includes('ingest-status')) return;
    const failures = [
      ...ingest.failedFiles,
      ...shards.flatMap((s) => (s?.error ? [{ type: s.error.type, reason: s.error.reason }] : [])),
    ];
    const unsafe = failures.find((f) => f.type === 'unsafe-url-detected');
    const first = unsafe ?? failures[0];
    this.deps.webhooks.send(
      ingest.notificationsURL,
      ingestStatusPayload({
        ingestId: ingest.ingestId,
        batchId: ingest.batchId,
        success: failures.length === 0,
        ...(first ? { error: { type: first.type, reason: first.reason } } : {}),
      }),
    );
  }

  private start(
    kind: 'image' | 'video',
    batchId: string,
    refs: Reference[],
    body: {
      ingestId?: string | undefined;
      notificationsURL?: string | undefined;
      notificationCategories?: string[] | undefined;
    },
    displayName: string | null,
  ): { ingestId: string; shardIds: string[]; duplicated: boolean } {
    const { store, options } = this.deps;
    const digest = createHash('sha256')
      .update(JSON.stringify(refs.map((r) => [r.name, r.url])))
      .digest('hex');
    const key = body.ingestId ? `${batchId}/${body.ingestId}` : `${batchId}/sha256:${digest}`;
    const existing = store.state.ingests[key];
    if (existing) return { ingestId: existing.ingestId, shardIds: existing.shardIds, duplicated: true };
    if (refs.length === 0) throw httpError(400, 'the references list is empty');
    ensureBatch(this.deps, batchId, 'sharded', kind === 'image' ? 'images' : 'videos', displayName);
    const ingestId = body.ingestId ?? randomUUID();
    const shardIds: string[] = [];
    for (let i = 0; i < refs.length; i += options.referencesPerShard) {
      const shardId = store.nextId('shard-r');
      shardIds.push(shardId);
      store.state.shards[shardId] = {
        shardId,
        batchId,
        source: 'references',
        createdAt: nowIso(this.deps.clock),
        indexAtMs: null,
        objectsCount: 0,
        sizeBytes: 0,
        failedFiles: [],
        error: null,
        ingestId,
        notificationsURL: body.notificationsURL ?? null,
        categories: body.notificationCategories ?? [],
        notified: false,
      };
      store.state.batches[batchId]?.shardIds.push(shardId);
    }
    const ingest: IngestRecord = {
      key,
      ingestId,
      batchId,
      kind,
      shardIds,
      createdAt: nowIso(this.deps.clock),
      notificationsURL: body.notificationsURL ?? null,
      categories: body.notificationCategories ?? [],
      fetched: false,
      notified: false,
      pending: refs,
      failedFiles: [],
    };
    store.state.ingests[key] = ingest;
    store.changed();
    this.track(this.fetchAll(ingest));
    return { ingestId, shardIds, duplicated: false };
  }

  private track(p: Promise<void>): void {
    const run = p.catch((err: unknown) => this.deps.logger.error({ err }, 'references ingest failed'));
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
  }

  private async fetchAll(ingest: IngestRecord): Promise<void> {
    const { store, options } = this.deps;
    const refs = ingest.pending ?? [];
    for (let s = 0; s < ingest.shardIds.length; s++) {
      const shard = store.state.shards[ingest.shardIds[s] ?? ''];
      if (!shard || shard.indexAtMs !== null) continue; // already fetched before a restart
      const chunk = refs.slice(s * options.referencesPerShard, (s + 1) * options.referencesPerShard);
      const items: ItemRecord[] = [];
      const failed: FailedFile[] = [];
      const dir = join('blobs', ingest.batchId, shard.shardId);
      await mkdir(store.abs(dir), { recursive: true });
      let next = 0;
      const worker = async () => {
        while (next < chunk.length && !this.closed) {
          const index = next++;
          const ref = chunk[index] as Reference;
          const outcome = await this.fetchOne(ref, join(dir, `${index}.bin`), ingest.kind);
          if ('failure' in outcome) failed.push(outcome.failure);
          else items.push({ ...outcome.item, shardId: shard.shardId });
        }
      };
      await Promise.all(Array.from({ length: FETCH_CONCURRENCY }, worker));
      if (this.closed) return;
      items.sort((a, b) => a.fileName.localeCompare(b.fileName));
      await store.saveShardItems(shard.shardId, items);
      shard.objectsCount = items.length;
      shard.sizeBytes = items.reduce((n, i) => n + i.sizeBytes, 0);
      shard.failedFiles = failed;
      ingest.failedFiles.push(...failed);
      if (this.deps.faults.shardFails())
        shard.error = {
          type: 'shard-processing-error',
          reason: 'the shard could not be indexed (injected fault)',
        };
      shard.indexAtMs =
        this.deps.clock.now() + options.indexingDelayMs + this.deps.faults.get().slowIndexingMs;
      store.changed();
      this.deps.indexer.schedule(shard);
    }
    ingest.fetched = true;
    ingest.pending = null;
    store.changed();
  }

  private async fetchOne(
    ref: Reference,
    blob: string,
    kind: 'image' | 'video',
  ): Promise<{ item: ItemRecord } | { failure: FailedFile }> {
    const fail = (type: string, reason: string) => ({ failure: { type, file_name: ref.name, reason } });
    if (!this.deps.options.allowRemoteReferences && !isLoopbackUrl(ref.url)) {
      return fail(
        'unsafe-url-detected',
        'the URL is not on a trusted domain (the emulator fetches loopback URLs only)',
      );
    }
    try {
      const res = await fetch(ref.url, { signal: AbortSignal.timeout(120_000) });
      if (!res.ok || !res.body) {
        await res.arrayBuffer().catch(() => undefined);
        return fail('download-failed', `GET answered ${res.status}`);
      }
      const declared = Number(res.headers.get('content-length') ?? NaN);
      if (kind === 'image' && declared > MAX_IMAGE_BYTES) {
        await res.body.cancel();
        return fail(
          'file-size-limit-exceeded',
          `${declared} bytes is more than the ${MAX_IMAGE_BYTES} allowed`,
        );
      }
      let size = 0;
      const body = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
      body.on('data', (c: Buffer) => {
        size += c.length;
        if (kind === 'image' && size > MAX_IMAGE_BYTES) body.destroy(new Error('file-size-limit-exceeded'));
      });
      await pipeline(body, createWriteStream(this.deps.store.abs(blob)));
      return {
        item: { fileName: ref.name, contentType: mimeOf(ref.name), kind, sizeBytes: size, blob, offset: 0 },
      };
    } catch (err) {
      const message = (err as Error).message;
      if (message === 'file-size-limit-exceeded')
        return fail('file-size-limit-exceeded', `more than ${MAX_IMAGE_BYTES} bytes`);
      return fail('download-failed', message);
    }
  }

  /** Reads a JSONL references file from a URL (the same loopback rule applies to it). */
  private async fetchReferencesFile(url: string): Promise<Reference[]> {
    if (!this.deps.options.allowRemoteReferences && !isLoopbackUrl(url)) {
      throw httpError(
        400,
        'unsafe-url-detected: the references file URL is not on a trusted domain (the emulator fetches loopback URLs only)',
      );
    }
    let text: string;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(60_000) });
      if (!res.ok) throw new Error(`GET answered ${res.status}`);
      const buf = Buffer.from(await res.arrayBuffer());
      if (buf.length > MAX_REFERENCES_FILE_BYTES)
        throw new Error(`larger than ${MAX_REFERENCES_FILE_BYTES} bytes`);
      text = buf.toString('utf8');
    } catch (err) {
      throw httpError(400, `could not read the references file: ${(err as Error).message}`);
    }
    const refs: Reference[] = [];
    const lines = text.split('\n');
    for (let n = 0; n < lines.length; n++) {
      const line = (lines[n] ?? '').trim();
      if (!line) continue;
      try {
        const value = JSON.parse(line) as { name?: unknown; url?: unknown };
        if (typeof value.name !== 'string' || typeof value.url !== 'string')
          throw new Error('needs string "name" and "url"');
        refs.push({ name: value.name, url: value.url });
      } catch (err) {
        throw httpError(
          400,
          `references file line ${n + 1} is not {"name","url"} JSON: ${(err as Error).message}`,
        );
      }
    }
    return refs;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.running]);
  }
}

function describe(issues: { path: PropertyKey[]; message: string }[]): string {
  return issues.map((i) => `${i.path.map(String).join('.') || '(body)'}: ${i.message}`).join('; ');
}
