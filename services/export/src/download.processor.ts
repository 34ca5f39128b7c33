import { access } from 'node:fs/promises';
import {
  ApiError,
  ConnectionBudget,
  downloadToFile as defaultDownloadToFile,
  eachLimited,
  isRetryable,
  MetricName,
  readJsonLines,
  retryLoop,
  streamDownload as defaultStreamDownload,
  type ServiceContext,
} from '@rfbatch/shared';
import { defineProcessor } from '@rfbatch/worker-kit';
import { DownloadEntry, downloadDoneKey, exportPaths, type ExportPaths } from './downloads.js';
import type { ExportDeps } from './deps.js';
import type { Listings } from './listings.js';
import type { ResolvedExportOptions } from './options.js';
import { workMirrorOf, type WorkMirror } from '@rfbatch/object-store';
import { safeExtract } from './safe-extract.js';

/** Statuses with which a storage service refuses a signed URL that expired or was revoked. */
const REFUSED_URL = new Set([400, 401, 403, 404, 410]);

/**
 * The download connections of one export service (its options object is made once per service): at
 * most `downloadConnections` at once across all its download jobs. A file's first connection waits for
 * one; its other ranged GETs (up to `rangeConnections - 1`) start only on a free one, so extra
 * connections fill the link when few files are in flight and never exceed the bound.
 */
const budgets = new WeakMap<ResolvedExportOptions, ConnectionBudget>();
function budgetOf(opts: ResolvedExportOptions): ConnectionBudget {
  let budget = budgets.get(opts);
  if (!budget) budgets.set(opts, (budget = new ConnectionBudget(opts.downloadConnections)));
  return budget;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

interface FileContext {
  ctx: ServiceContext;
  opts: ResolvedExportOptions;
  listings: Listings;
  paths: ExportPaths;
  runId: string;
}

/** How a file's transfers may use connections: several ranged GETs, within the service's budget. */
function transferOptions(opts: ResolvedExportOptions) {
  return {
    timeoutMs: opts.transferTimeoutMs,
    range: {
      connections: opts.rangeConnections,
      minBytes: opts.rangeMinBytes,
      partBytes: opts.rangePartBytes,
      limiter: budgetOf(opts),
    },
  };
}

/**
 * Tries one transfer of a file until it succeeds: a refused URL (expired) gets a fresh one from a
 * new listing; a transient failure (reset, 5xx, short body, a damaged archive) is tried again after
 * a pause. Resolves with the bytes received.
 */
async function withFreshUrl(
  f: FileContext,
  entry: DownloadEntry,
  transfer: (url: string) => Promise<number>,
): Promise<number> {
  let relists = 0;
  let tries = 0;
  let fresh = false;
  let listed = false;
  return retryLoop(
    async () => {
      listed = false;
      const url = await f.listings.urlFor(entry, fresh);
      fresh = false;
      listed = true;
      return transfer(url);
    },
    {
      nextDelayMs: (error) => {
        if (!listed) return undefined; // a listing that fails is not this loop's to retry
        if (
          error instanceof ApiError &&
          error.status !== undefined &&
          REFUSED_URL.has(error.status) &&
          relists < f.opts.relistAttempts
        ) {
          relists++;
          fresh = true;
          return 0;
        }
        if (isRetryable(error) && ++tries < f.opts.fileAttempts)
          return f.opts.retryDelayMs * 2 ** (tries - 1);
        return undefined;
      },
    },
  );
}

/** One file, end to end: skipped when already complete, else downloaded, extracted and checkpointed. */
async function completeFile(f: FileContext, entry: DownloadEntry): Promise<void> {
  const { ctx, runId, paths } = f;
  const doneKey = downloadDoneKey(entry);
  const content = paths.contentPath(entry);
  const countDone = async (bytes: number) => {
    // SADD answers 1 only the first time, so a repeated job never counts a file twice.
    const added = await ctx.store.redis.sadd(ctx.store.key(runId, 'done'), doneKey);
    if (added === 1) {
      await ctx.store.incr(runId, 'downloadsDone');
      if (bytes > 0) await ctx.store.incr(runId, 'bytesDownloaded', bytes);
    }
  };
  if ((await ctx.store.isDone(runId, doneKey)) && (await exists(content))) return countDone(0);
  if (await ctx.store.isTerminal(runId)) return;

  const dest = paths.downloadPath(entry);
  const extract = { label: entry.local, limits: f.opts.extractLimits, sync: f.opts.extractSync };
  const transfer = transferOptions(f.opts);
  let bytes: number;
  if (entry.archive && dest.startsWith(paths.raw)) {
    // Extracted as it arrives: no packed copy on disk (parts fetched by extra connections on a slow
    // link wait in a temp file beside `dest` until the stream reaches them). A damaged or truncated
    // archive leaves nothing and is fetched again; a refused one fails the run.
    bytes = await withFreshUrl(f, entry, async (url) => {
      const stream = f.opts.streamDownload ?? defaultStreamDownload;
      const done = await stream(url, dest, transfer, (file) => safeExtract(file, content, extract));
      return done.bytes;
    });
  } else {
    const download = f.opts.downloadToFile ?? defaultDownloadToFile;
    bytes = await withFreshUrl(f, entry, (url) => download(url, dest, transfer));
    // Kept packed in the output (extract: false): extracted privately, to join the results.
    if (entry.archive) await safeExtract(dest, content, extract);
  }
  ctx.metrics?.inc(MetricName.bytesDownloaded, {}, bytes);
  await countDone(bytes);
}

/** Pushes what one finished download left: its content (extracted folder or file) and a kept archive. */
async function pushDownloaded(
  mirror: WorkMirror,
  paths: ExportPaths,
  runId: string,
  entry: DownloadEntry,
  extract: boolean,
): Promise<void> {
  const content = paths.contentPath(entry);
  if (content.startsWith(paths.extracted)) await mirror.pushPath(content);
  else await mirror.pushOutput(runId, paths.out, content);
  if (entry.archive && !extract) await mirror.pushOutput(runId, paths.out, paths.downloadPath(entry));
}

/**
 * download: fetches lines [range) of the run's downloads file, a few files at once. Files already
 * complete are skipped; archives are extracted safely (a refused archive fails the run, naming the
 * entry). Local names come from the listing's `fileName`, never from a URL.
 */
export const downloadProcessor = defineProcessor(
  'export',
  'download',
  async ({ data, spec, log }, { ctx, options: opts, listings }: ExportDeps) => {
    const { runId } = data;
    await ctx.store.stageStarted(runId, 'download');
    const paths = exportPaths(ctx.config.workDir, runId, spec.output.dir, spec.output.extract);
    const mirror = workMirrorOf(ctx.config);
    const entries: DownloadEntry[] = [];
    // The download list is written again when a retry restarts the job: never a stale local copy.
    const input = await mirror?.readRange(paths.downloads, data.range, { fresh: true });
    for await (const entry of readJsonLines(paths.downloads, DownloadEntry, data.range, input))
      entries.push(entry);
    const f: FileContext = { ctx, opts, listings, paths, runId };
    await eachLimited(entries, opts.downloadConcurrency, (entry) => completeFile(f, entry));
    // With a mirrored work dir, the host that finalizes the run may be another one: it pulls these.
    if (mirror)
      for (const entry of entries) await pushDownloaded(mirror, paths, runId, entry, spec.output.extract);
    log.debug({ group: data.group, files: entries.length }, 'download group done');
    return { files: entries.length };
  },
);
