import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { eachLimited, OUTPUT_CLAIM_FILE, parseBucketUrl } from '@rfbatch/shared';
import { openObjectStore, regularFiles } from '@rfbatch/object-store';

/** Objects written at once while publishing. */
const PUBLISH_CONCURRENCY = 8;
/** Written after everything else, in this order: a reader that sees summary.json sees a complete output. */
const LAST = ['report.html', 'results.jsonl', 'summary.json'];

export interface Published {
  written: number;
  /** Already in the bucket with the same size (a resumed or repeated finalize writes nothing twice). */
  unchanged: number;
  bytes: number;
}

/**
 * Publishes a run's output, assembled in its work dir, to the bucket prefix `url`: each file becomes one
 * object under the same relative key, each complete or absent (a single PUT, or a multipart upload that
 * is aborted on failure). Only regular files are published (no link is followed); the claim marker stays
 * local. The extracted outputs go first and summary.json last. `since` is when the run was created: an
 * output object at least as new and of the same size is this run's own, and is not written again.
 */
export async function publishOutput(localDir: string, url: string, since: number): Promise<Published> {
  const location = parseBucketUrl(url, { allowGlob: false });
  const store = openObjectStore(location);
  const files: Array<{ rel: string; size: number }> = [];
  for await (const path of regularFiles(localDir)) {
    const rel = relative(localDir, path).split(sep).join('/');
    if (rel !== OUTPUT_CLAIM_FILE) files.push({ rel, size: (await stat(path)).size });
  }
  const rank = (rel: string) => LAST.indexOf(rel);
  const first = files.filter((f) => rank(f.rel) < 0);
  const last = files.filter((f) => rank(f.rel) >= 0).sort((a, b) => rank(a.rel) - rank(b.rel));
  const result: Published = { written: 0, unchanged: 0, bytes: 0 };
  const publish = async (file: { rel: string; size: number }) => {
    const key = `${location.prefix}${file.rel}`;
    const there = rank(file.rel) < 0 ? await store.head(key) : undefined;
    // Written by this run before (a resumed finalize): same size and not older than the run. An
    // object of an earlier run into this prefix is replaced; the last three files are always written.
    if (there?.size === file.size && (there.lastModified ?? 0) >= since) {
      result.unchanged++;
      return;
    }
    await store.put(key, createReadStream(join(localDir, file.rel)), {
      size: file.size,
      contentType: contentTypeOf(file.rel),
    });
    result.written++;
    result.bytes += file.size;
  };
  await eachLimited(first, PUBLISH_CONCURRENCY, publish);
  for (const file of last) await publish(file);
  return result;
}

function contentTypeOf(rel: string): string {
  if (rel.endsWith('.json')) return 'application/json';
  if (rel.endsWith('.jsonl')) return 'application/x-ndjson';
  if (rel.endsWith('.html')) return 'text/html; charset=utf-8';
  if (rel.endsWith('.csv')) return 'text/csv';
  return 'application/octet-stream';
}
