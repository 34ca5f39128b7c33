/**
 * Baselines shaped like the official Roboflow CLI (`inference rf-cloud data-staging
 * create-batch-of-images` and `export-batch`, in inference_cli/lib/roboflow_cloud/data_staging), so
 * rfbatch is measured against what a user gets without it, on the same emulator in the same run.
 *
 *  - Ingest: the official client cuts the images into tar shards of 256 (MAX_SHARD_SIZE) and hands them
 *    to a pool of 8 processes (MAX_SHARDS_UPLOAD_PROCESSES); each process registers its shard (one
 *    fresh signed URL) and PUTs the whole tar. Here the tars are built beforehand (not timed), 8 lanes
 *    each run one `curl -T` process per tar (each to a fresh URL from the upload endpoint), then the
 *    batch count is polled until it holds every image. Timed from the first PUT to the complete count.
 *  - Export: the official client downloads with 8 threads (MAX_DOWNLOAD_THREADS); each thread GETs one
 *    archive into a temporary dir, extracts it into the part's folder and drops the temporary dir.
 *    Here 8 lanes each run, per archive, `curl -o` into a temporary file, `tar x` of it into the
 *    part's folder and a removal of the file. Timed end to end.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { eachLimited, type SignedUrlDetails } from '@rfbatch/shared';
import { curlGet, run, until } from './proc.js';

/** Images per tar shard of the official client. */
export const OFFICIAL_SHARD_IMAGES = 256;
/** Upload processes and download threads of the official client. */
export const OFFICIAL_LANES = 8;

export interface OfficialIngestOptions {
  /** The tar shards, built beforehand. */
  tars: readonly string[];
  /** Images the batch must count when the ingest is complete. */
  images: number;
  /** A fresh signed URL for one shard (the upload endpoint rfbatch uses too). */
  signedUrl(): Promise<SignedUrlDetails>;
  /** One PUT of `file` (a `curl -T` process). */
  put(details: SignedUrlDetails, file: string): Promise<void>;
  /** The batch's item count. */
  count(): Promise<number>;
  /** @defaultValue OFFICIAL_LANES */
  lanes?: number;
  /** @defaultValue 100 */
  pollMs?: number;
  /** @defaultValue 1 hour */
  timeoutMs?: number;
}

export interface OfficialIngestTimes {
  /** First PUT started → the count holds every image. */
  seconds: number;
  /** First PUT started → last PUT answered. */
  putSeconds: number;
  /** Count requests until complete. */
  countPolls: number;
}

export async function officialIngest(options: OfficialIngestOptions): Promise<OfficialIngestTimes> {
  let t0: number | undefined;
  await eachLimited(options.tars, options.lanes ?? OFFICIAL_LANES, async (tar) => {
    const details = await options.signedUrl();
    t0 ??= performance.now();
    await options.put(details, tar);
  });
  const start = t0 ?? performance.now();
  const putSeconds = (performance.now() - start) / 1000;
  let countPolls = 0;
  // The first count request goes out at once, later ones every pollMs.
  await until(
    `the batch to count ${options.images} images`,
    async () => {
      countPolls++;
      const n = await options.count();
      if (n > options.images) throw new Error(`the batch counts ${n} items, more than ${options.images}`);
      return n === options.images ? true : undefined;
    },
    options.timeoutMs ?? 3_600_000,
    options.pollMs ?? 100,
  );
  return { seconds: (performance.now() - start) / 1000, putSeconds, countPolls };
}

export interface ExportArchive {
  partName: string;
  fileName: string;
  url: string;
}

export interface OfficialExportOptions {
  archives: readonly ExportArchive[];
  /** The export's target folder (one subfolder per part, as the official client makes). */
  dir: string;
  /** @defaultValue OFFICIAL_LANES */
  lanes?: number;
}

/** Downloads and extracts every archive; returns the seconds from the first GET to the last extraction. */
export async function officialExport(options: OfficialExportOptions): Promise<number> {
  const t0 = performance.now();
  const temp = join(options.dir, '.download');
  await mkdir(temp, { recursive: true });
  for (const part of new Set(options.archives.map((a) => a.partName)))
    await mkdir(join(options.dir, part), { recursive: true });
  await eachLimited(options.archives, options.lanes ?? OFFICIAL_LANES, async (a, i) => {
    const file = join(temp, `${i}-${a.fileName}`);
    await curlGet(a.url, file);
    const flags = a.fileName.endsWith('.tar') ? 'xf' : 'xzf';
    await run('tar', [flags, file, '-C', join(options.dir, a.partName)]);
    await rm(file);
  });
  await rm(temp, { recursive: true });
  return (performance.now() - t0) / 1000;
}
