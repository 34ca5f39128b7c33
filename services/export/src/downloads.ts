import { join, resolve } from 'node:path';
import { z } from 'zod';
import { looksLikeUrl, runPaths, type FileMetadata } from '@rfbatch/shared';

/**
 * One line of a run's `downloads.jsonl`: a file of the output batch, as listed, but without its
 * signed URL (a secret that also expires): download jobs list the part again to get a fresh one.
 */
export const DownloadEntry = z.object({
  /** Position in the listing, 0-based. */
  i: z.number().int().min(0),
  batchId: z.string(),
  partName: z.string().nullable(),
  fileName: z.string(),
  shardId: z.string().nullable(),
  contentType: z.string(),
  /** Safe relative path of the file under the outputs folder (from `partName` and `fileName` only). */
  local: z.string(),
  /** Archive kind by name; archives are extracted (safely) after download. */
  archive: z.boolean(),
});
export type DownloadEntry = z.infer<typeof DownloadEntry>;

const UNSAFE_CHARS = /[^A-Za-z0-9._-]+/g;
const MAX_SEGMENT = 120;

/** One path segment made safe: no separators, no leading dots, only `[A-Za-z0-9._-]`, bounded length. */
function safeSegment(text: string): string {
  const cleaned = text.replace(UNSAFE_CHARS, '_').replace(/^[.]+/, '_').slice(0, MAX_SEGMENT);
  return cleaned === '' || cleaned === '_' ? '' : cleaned;
}

/**
 * The local relative path of a listed file: `<partName>/<fileName>` with every segment sanitised.
 * Never derived from the URL (signed URLs can end in an unrelated id). `..`, `.` and empty segments
 * are dropped, so the result never leaves the outputs folder.
 */
export function localNameOf(file: Pick<FileMetadata, 'fileName' | 'partName'>, i: number): string {
  const segments = [file.partName ?? '', ...file.fileName.split(/[/\\]+/)]
    .filter((s) => s !== '' && s !== '.' && s !== '..')
    .map(safeSegment)
    .filter((s) => s !== '');
  if (segments.length === 0 || (segments.length === 1 && file.partName)) segments.push(`file-${i}`);
  return segments.join('/');
}

/** True for `.tar`, `.tar.gz` and `.tgz` names. */
export function isArchiveName(fileName: string): boolean {
  return /\.(tar|tar\.gz|tgz)$/i.test(fileName);
}

/** `a/b.tar.gz` → `a/b`: the folder an archive is extracted into. */
export function archiveStem(local: string): string {
  return local.replace(/\.(tar|tar\.gz|tgz)$/i, '');
}

/**
 * Makes local names unique within one listing (two files may sanitise to the same name): the second
 * gets `-<i>` before its extension.
 */
export class LocalNames {
  private readonly seen = new Set<string>();
  claim(name: string, i: number): string {
    let chosen = name;
    if (this.seen.has(chosen.toLowerCase())) {
      const m = /^(.*?)((?:\.tar)?\.[A-Za-z0-9]+)?$/.exec(name);
      chosen = `${m?.[1] ?? name}-${i}${m?.[2] ?? ''}`;
    }
    this.seen.add(chosen.toLowerCase());
    return chosen;
  }
}

/** Where the outputs of a run go, and where each downloaded file lives. */
export function exportPaths(workDir: string, runId: string, outDir: string, extract: boolean) {
  const run = runPaths(workDir, runId);
  // A bucket output is assembled in the work dir and published at finalize (publish-output.ts).
  const out = looksLikeUrl(outDir) ? run.outputStaging : resolve(outDir);
  const outputs = join(out, 'outputs');
  /** Where archives are extracted when the user asked to keep them packed (we still read them). */
  const privateExtract = join(run.dir, 'extracted');
  return {
    ...run,
    extracted: privateExtract,
    out,
    outputs,
    results: join(out, 'results.jsonl'),
    summary: join(out, 'summary.json'),
    /** Where the file is saved: archives to extract go to the work dir, everything else to outputs. */
    downloadPath(entry: DownloadEntry): string {
      return entry.archive && extract ? join(run.raw, entry.local) : join(outputs, entry.local);
    },
    /** Where the content of a downloaded file can be read: the file itself, or its extracted folder. */
    contentPath(entry: DownloadEntry): string {
      if (!entry.archive) return join(outputs, entry.local);
      return extract
        ? join(outputs, archiveStem(entry.local))
        : join(privateExtract, archiveStem(entry.local));
    },
  };
}
export type ExportPaths = ReturnType<typeof exportPaths>;

/** The checkpoint of one finished file (downloaded and, for archives, extracted). */
export function downloadDoneKey(entry: DownloadEntry): string {
  return `download:${entry.local}`;
}

/**
 * Byte ranges of consecutive groups of `perGroup` lines of a newline-delimited file: the payloads of
 * the download jobs (O(groups) in Redis, never O(files)).
 */
export function lineGroups(content: Buffer, perGroup: number): { start: number; end: number }[] {
  const groups: { start: number; end: number }[] = [];
  let start = 0;
  let lines = 0;
  for (let pos = 0; pos < content.length; pos++) {
    if (content[pos] !== 0x0a) continue;
    lines++;
    if (lines === perGroup) {
      groups.push({ start, end: pos + 1 });
      start = pos + 1;
      lines = 0;
    }
  }
  if (start < content.length) groups.push({ start, end: content.length });
  return groups;
}
