import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { z } from 'zod';
import {
  ErrorCode,
  MAX_REFERENCES_PER_REQUEST,
  RfbatchError,
  runPaths,
  shardImagesFor,
  shardLookahead,
  type ResolvedRunSpec,
  type RunPaths,
  type UploadMode,
} from '@rfbatch/shared';
import { LookaheadWriter, ManifestWriter, SkippedWriter, type UnitLimits } from './manifest-writer.js';
import { bucketRoot, openBucketSource, scanBucket, type BucketSource } from './bucket-source.js';
import { referenceLines } from './references-source.js';
import { scanDirectory } from './scan.js';
import { writePlanFile, type PlanFile } from '@rfbatch/shared';

/** Video references per ingest request (the API suggests at most 5,000). */
const MAX_VIDEO_REFERENCES_PER_REQUEST = 5_000;
/**
 * A bucket's chunks are presigned by the worker that sends them: each entry then holds a presigned URL
 * (about 1 KB for S3) three times over while the chunk is sent (the references, their JSON body and
 * the request's bytes). At 20,000 per chunk, two chunks in flight took the ingest process past 400 MB;
 * at 5,000 they stay near 40 MB, for four times as many (still few) ingest requests.
 */
const BUCKET_REFERENCES_PER_REQUEST = 5_000;

const ReferenceLine = z.object({
  name: z.string().trim().min(1, 'needs a non-empty "name"'),
  url: z.string().refine((u) => /^https?:\/\//i.test(u) && URL.canParse(u), 'needs an http(s) "url"'),
});

/**
 * Plans a run: reads its source as a stream, writes `manifest.jsonl` and `skipped.jsonl`, chooses the
 * upload mode, cuts the manifest into units and finally writes `plan.json`. Nothing is uploaded here.
 * Fails (non-retryable) when the source is missing or holds nothing to upload.
 */
export async function planRun(spec: ResolvedRunSpec, workDir: string): Promise<PlanFile> {
  const paths = runPaths(workDir, spec.runId);
  await mkdir(paths.dir, { recursive: true });
  const skipped = await SkippedWriter.create(paths.skipped);
  let planned: Omit<PlanFile, 'skipped' | 'skippedByReason' | 'version'>;
  try {
    planned =
      spec.source.kind === 'directory'
        ? await planDirectory(spec, paths, skipped)
        : spec.source.kind === 'bucket'
          ? await planBucket(spec, paths, skipped)
          : await planReferences(spec, paths, skipped);
  } catch (error) {
    await skipped.discard();
    throw error;
  }
  await skipped.commit();
  const plan: PlanFile = {
    version: 1,
    ...planned,
    skipped: skipped.count,
    skippedByReason: skipped.byReason,
  };
  if (plan.files === 0) throw nothingToUpload(spec, plan, paths);
  await writePlanFile(paths.plan, plan);
  return plan;
}

type Planned = Omit<PlanFile, 'skipped' | 'skippedByReason' | 'version'>;

async function planDirectory(
  spec: ResolvedRunSpec,
  paths: RunPaths,
  skipped: SkippedWriter,
): Promise<Planned> {
  const source = spec.source as Extract<ResolvedRunSpec['source'], { kind: 'directory' }>;
  const kind = source.media === 'images' ? 'image' : 'video';
  const upload = spec.upload;
  // Like the official client: a small folder goes by single uploads, a bigger one by tar shards, whose
  // size may depend on how many images there are (the look-ahead learns it).
  const threshold = source.media === 'images' ? upload.singleUploadMaxImages : -1;
  let mode: UploadMode = source.media === 'images' ? 'single' : 'videos';
  const lookahead = source.media === 'images' ? Math.max(threshold, shardLookahead(upload)) : 0;
  const pending = new LookaheadWriter(paths.manifest, lookahead, (images) => {
    if (source.media === 'images' && (images === undefined || images > threshold)) mode = 'shards';
    return limitsFor(mode, spec, images);
  });
  let seen = 0;
  let writer: ManifestWriter;
  try {
    for await (const found of scanDirectory(source.path, {
      media: source.media,
      recursive: source.recursive,
      include: source.include,
    })) {
      seen++;
      if (found.type === 'skipped') await skipped.add(found.entry);
      else
        await pending.add({
          source: found.source,
          ...(found.sourceBytes === undefined ? {} : { sourceBytes: found.sourceBytes }),
          kind,
          size: found.size,
          mtimeMs: found.mtimeMs,
        });
    }
    writer = await pending.finish();
  } catch (error) {
    await pending.discard();
    throw error;
  }
  const units = await writer.commit();
  return {
    mode,
    kind,
    root: resolve(source.path),
    files: writer.files,
    bytes: writer.totalBytes,
    seen,
    units,
  };
}

/**
 * A bucket source: the listing streams into the manifest (source = the full object key, so two
 * prefixes holding `x.jpg` stay two items with two remote names). `references` mode cuts reference
 * chunks (the URLs are presigned only when a chunk is sent); `stream` mode cuts tar shards (or video
 * groups) that the workers fill from the bucket.
 */
async function planBucket(spec: ResolvedRunSpec, paths: RunPaths, skipped: SkippedWriter): Promise<Planned> {
  const source = spec.source as BucketSource;
  const kind = source.media === 'images' ? 'image' : 'video';
  const mode: UploadMode =
    source.mode === 'references' ? 'references' : source.media === 'images' ? 'shards' : 'videos';
  const { location, store } = openBucketSource(source);
  const lookahead = mode === 'shards' ? shardLookahead(spec.upload) : 0;
  const pending = new LookaheadWriter(paths.manifest, lookahead, (images) => limitsFor(mode, spec, images));
  let seen = 0;
  let writer: ManifestWriter;
  try {
    for await (const found of scanBucket(store, location, { media: source.media, include: source.include })) {
      seen++;
      if (found.type === 'skipped') await skipped.add(found.entry);
      else
        await pending.add({
          source: found.object.key,
          kind,
          size: found.object.size,
          ...(found.object.lastModified === undefined ? {} : { mtimeMs: found.object.lastModified }),
        });
    }
    writer = await pending.finish();
  } catch (error) {
    await pending.discard();
    throw error;
  }
  const units = await writer.commit();
  const bytes = writer.totalBytes;
  return { mode, kind, root: bucketRoot(location), files: writer.files, bytes, seen, units };
}

async function planReferences(
  spec: ResolvedRunSpec,
  paths: RunPaths,
  skipped: SkippedWriter,
): Promise<Planned> {
  const source = spec.source as Extract<ResolvedRunSpec['source'], { kind: 'references' }>;
  const kind = source.media === 'images' ? 'image' : 'video';
  const writer = await ManifestWriter.create(paths.manifest, limitsFor('references', spec));
  let seen = 0;
  let line = 0;
  try {
    for await (const text of referenceLines(source)) {
      line++;
      if (!text.trim()) continue;
      seen++;
      const problem = await addReference(writer, text, kind);
      // The detail never repeats the line: its url is a credential.
      if (problem) await skipped.add({ source: `line ${line}`, reason: 'bad-name', detail: problem });
    }
  } catch (error) {
    await writer.discard();
    throw error;
  }
  const units = await writer.commit();
  return { mode: 'references', kind, files: writer.files, bytes: 0, seen, units };
}

async function addReference(
  writer: ManifestWriter,
  text: string,
  kind: 'image' | 'video',
): Promise<string | undefined> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'not a JSON object';
  }
  const parsed = ReferenceLine.safeParse(value);
  if (!parsed.success) return parsed.error.issues.map((i) => i.message).join('; ');
  await writer.add({ source: parsed.data.name, kind, url: parsed.data.url });
  return undefined;
}

/** How units are cut; for shards, `images` is the run's image count when the look-ahead saw its end. */
function limitsFor(mode: UploadMode, spec: ResolvedRunSpec, images?: number): UnitLimits {
  const u = spec.upload;
  switch (mode) {
    case 'shards':
      return { maxItems: shardImagesFor(u, images), maxBytes: u.shardMaxBytes };
    case 'single':
    case 'videos':
      return { maxItems: u.filesPerJob, maxBytes: u.shardMaxBytes };
    case 'references':
      return {
        maxItems:
          spec.source.kind === 'bucket'
            ? BUCKET_REFERENCES_PER_REQUEST
            : spec.source.media === 'images'
              ? MAX_REFERENCES_PER_REQUEST
              : MAX_VIDEO_REFERENCES_PER_REQUEST,
        maxBytes: Number.POSITIVE_INFINITY,
      };
  }
}

function nothingToUpload(spec: ResolvedRunSpec, plan: PlanFile, paths: RunPaths): RfbatchError {
  const media = spec.source.media;
  const where =
    spec.source.kind === 'directory'
      ? `folder "${spec.source.path}"`
      : spec.source.kind === 'bucket'
        ? `bucket location ${spec.source.url}`
        : 'the references file';
  const reasons = Object.entries(plan.skippedByReason)
    .map(([reason, n]) => `${n} ${reason}`)
    .join(', ');
  const why =
    plan.seen === 0
      ? spec.source.kind === 'bucket'
        ? ' (nothing matches it)'
        : ' (it is empty)'
      : `: ${plan.skipped} skipped (${reasons}); see ${paths.skipped}`;
  const extensions =
    media === 'images' ? 'jpg, png, webp, bmp or jp2' : 'mp4, mov, avi, mkv, flv, wmv or m4v';
  const hint =
    spec.source.kind === 'bucket'
      ? `check the prefix or glob (keys are case-sensitive) and "include": it must name ${extensions} objects`
      : spec.source.kind === 'directory'
        ? `put ${extensions} files in it (check "include" and "recursive")`
        : 'give one {"name": ..., "url": ...} JSON object per line';
  return new RfbatchError(ErrorCode.source, `${where} has no ${media} to upload${why}`, { hint });
}
