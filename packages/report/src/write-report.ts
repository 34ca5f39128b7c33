/**
 * Writes `<out>/report.html` for a finished run from its summary.json and results.jsonl. The results
 * are streamed line by line into bounded stats, and only the sampled images are decoded, so the time
 * and memory do not grow with the run beyond reading its results once.
 */
import { createReadStream, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { eachLimited, writeFileAtomic, type ResolvedRunSpec } from '@rfbatch/shared';
import { renderReport, type Tile } from './render.js';
import { reportSpec, reproduceCommand } from './reproduce.js';
import { ResultLine } from './result-line.schema.js';
import { DEFAULT_LIMITS, RunStats, type ReportLimits } from './stats.js';
import { RunSummary } from './summary.schema.js';
import { DEFAULT_THUMBNAIL_LIMITS, makeThumbnail, type ThumbnailLimits } from './thumbnails.js';

export const REPORT_FILE = 'report.html';

export interface WriteReportOptions {
  /** The run's output folder: it holds summary.json and results.jsonl, and gets report.html. */
  outDir: string;
  /** The run's spec, when known: the source folder (for thumbnails) and the command to run it again. */
  spec?: ResolvedRunSpec;
  limits?: Partial<ReportLimits>;
  thumbnails?: Partial<ThumbnailLimits>;
  /** Thumbnails made at once. @defaultValue 2 */
  concurrency?: number;
  now?: Date;
}

export interface WrittenReport {
  path: string;
  bytes: number;
  lines: number;
  sampled: number;
  thumbnails: number;
  badLines: number;
}

/** Streams results.jsonl into the stats; a line that is not a result line is counted, not fatal. */
async function readResults(file: string, stats: RunStats): Promise<number> {
  let badLines = 0;
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const text of lines) {
    if (!text.trim()) continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      badLines++;
      continue;
    }
    const line = ResultLine.safeParse(value);
    if (line.success) stats.add(line.data);
    else badLines++;
  }
  return badLines;
}

/** The local file of a sampled source, when the run read a folder and the name stays inside it. */
function localSource(spec: ResolvedRunSpec | undefined, source: string): string | undefined {
  if (spec?.source.kind !== 'directory') return undefined;
  const root = resolve(spec.source.path);
  const path = resolve(root, source);
  const rel = relative(root, path);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? undefined : path;
}

async function galleryTiles(
  stats: RunStats,
  spec: ResolvedRunSpec | undefined,
  limits: ThumbnailLimits,
  concurrency: number,
): Promise<Tile[]> {
  const tiles: Tile[] = stats.sampled.map((item) => ({ item }));
  let budget = limits.totalBytes;
  await eachLimited(tiles, concurrency, async (tile) => {
    if (tile.item.kind === 'video') {
      tile.note = 'video frames are not decoded: the boxes are drawn on a blank frame';
      return;
    }
    const path = localSource(spec, tile.item.source);
    if (!path) {
      tile.note = spec
        ? 'no local copy of this image (not a folder source)'
        : "no thumbnail: the run's source folder is not known";
      return;
    }
    if (budget <= 0) {
      tile.note = 'thumbnail left out: the report is at its size cap';
      return;
    }
    const made = await makeThumbnail(path, limits);
    if ('error' in made) tile.note = `no thumbnail: ${made.error}`;
    else if (made.bytes > budget) tile.note = 'thumbnail left out: the report is at its size cap';
    else {
      budget -= made.bytes;
      tile.thumbnail = made;
    }
  });
  return tiles;
}

function parseSummary(file: string, text: string): RunSummary {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(
      `${file} is not JSON (${(error as Error).message}): write it again with \`rfbatch retry\``,
      { cause: error },
    );
  }
  const parsed = RunSummary.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new Error(
    `${file} is not a run summary (${issue ? `${issue.path.join('.') || '(top)'}: ${issue.message}` : 'invalid'})`,
  );
}

/** Writes report.html (to a temp name, then renamed) and says what went into it. */
export async function writeReport(options: WriteReportOptions): Promise<WrittenReport> {
  const outDir = resolve(options.outDir);
  const summaryFile = join(outDir, 'summary.json');
  let text: string;
  try {
    text = await readFile(summaryFile, 'utf8');
  } catch (error) {
    throw new Error(
      `no summary.json in ${outDir} (${(error as NodeJS.ErrnoException).code ?? String(error)}): a report is written for a finished run's output folder`,
      { cause: error },
    );
  }
  const summary = parseSummary(summaryFile, text);
  const stats = new RunStats({ ...DEFAULT_LIMITS, ...options.limits });
  const results = join(outDir, 'results.jsonl');
  if (!existsSync(results))
    throw new Error(`no results.jsonl in ${outDir}: a report is written for a finished run's output folder`);
  const badLines = await readResults(results, stats);
  const limits = { ...DEFAULT_THUMBNAIL_LIMITS, ...options.thumbnails };
  const tiles = await galleryTiles(stats, options.spec, limits, options.concurrency ?? 2);
  const spec = options.spec;
  const html = renderReport({
    summary,
    stats,
    tiles,
    ...(spec ? { reproduce: { command: reproduceCommand(spec), spec: reportSpec(spec) } } : {}),
    ...(spec ? { aggregation: spec.workflow.aggregationFormat } : {}),
    generatedAt: options.now ?? new Date(),
  });
  const path = join(outDir, REPORT_FILE);
  await writeFileAtomic(path, html);
  return {
    path,
    bytes: Buffer.byteLength(html),
    lines: stats.lines,
    sampled: tiles.length,
    thumbnails: tiles.filter((t) => t.thumbnail).length,
    badLines,
  };
}
