import { mkdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import {
  downloadToFile,
  redactDeep,
  type BatchMetadata,
  type BatchPart,
  type FileMetadata,
} from '@rfbatch/shared';
import { localNameOf, safeExtract } from '@rfbatch/export';
import type { App } from '../app.js';
import { printJson, printLine, note } from '../io.js';
import { formatBytes, formatCount, table, timeLeft } from '../render/format.js';
import { partsToRead } from '../batch-parts.js';
import { writeJsonl } from '../jsonl-file.js';
import { addListOptions, listBounds, takeUpTo, type ListFlags } from '../list-options.js';
import { batchIdArg, withClient } from '../remote-client.js';
import { registerBatchContent } from './batch-content.js';

/** Listings without their signed URLs: those are secrets and never printed. */
function withoutUrl(file: FileMetadata): Omit<FileMetadata, 'downloadURL'> {
  const { downloadURL: _url, ...rest } = file;
  return rest;
}

const ARCHIVE = /\.(tar|tar\.gz|tgz)$/i;
const isArchiveName = (name: string) => ARCHIVE.test(name);
/** `a/b.tar.gz` → `a/b`: the folder an archive is extracted into. */
const archiveStem = (local: string) => local.replace(ARCHIVE, '');

/** `batches show`: the batch, and its item count (simple, sharded) or each part with its count (multipart). */
interface BatchView {
  batch: BatchMetadata;
  parts: Array<BatchPart & { count: number }>;
  count?: number;
}

const secondsUntil = (iso: string) => Math.round((Date.parse(iso) - Date.now()) / 1000);

export function registerBatches(program: Command, app: App): void {
  const batches = program
    .command('batches')
    .summary('inspect Data Staging batches (as `inference rf-cloud data-staging` does)');

  addListOptions(batches.command('ls').summary('list the batches of the workspace'), 100)
    .option('--json', 'print JSON')
    .action(async (flags: ListFlags & { json?: boolean }) => {
      const { limit, page } = listBounds(flags, 100);
      const list = await withClient(app, (c) => takeUpTo(c.listBatches(page), limit));
      if (flags.json) return printJson(app.io, { batches: list });
      printLine(
        app.io,
        table(
          ['BATCH', 'TYPE', 'CONTENT', 'CREATED', 'EXPIRES'],
          list.map((b) => [
            b.batchId,
            b.batchType,
            b.batchContentType,
            b.createdDate,
            timeLeft(secondsUntil(b.expiryDate)),
          ]),
        ),
      );
    });

  batches
    .command('show')
    .summary('show one batch: metadata, item count, and each part with its count')
    .argument('<batchId>', 'batch id')
    .option('--json', 'print JSON')
    .action(async (batchId: string, flags: { json?: boolean }) => {
      const id = batchIdArg(batchId);
      const view = await withClient(app, async (c): Promise<BatchView> => {
        const batch = await c.getBatch(id);
        if (batch.batchType !== 'multipart-batch') return { batch, parts: [], count: await c.countBatch(id) };
        // As the official show-batch-details: a multipart batch is counted part by part.
        const parts: BatchView['parts'] = [];
        for (const part of await c.listParts(id))
          parts.push({ ...part, count: await c.countBatch(id, { partName: part.partName }) });
        return { batch, parts };
      });
      if (flags.json) return printJson(app.io, view);
      const { batch } = view;
      printLine(app.io, `batch ${batch.batchId}  (${batch.displayName})`);
      printLine(app.io, `  type     ${batch.batchType} · ${batch.batchContentType}`);
      printLine(
        app.io,
        `  created  ${batch.createdDate} · expires ${batch.expiryDate} (${timeLeft(secondsUntil(batch.expiryDate))})`,
      );
      if (view.count !== undefined) printLine(app.io, `  items    ${formatCount(view.count)}`);
      for (const p of view.parts)
        printLine(
          app.io,
          `  part     ${p.partName} (${p.partType}, ${p.contentType})  ${formatCount(p.count)} items`,
        );
    });

  batches
    .command('count')
    .summary('count the items of a batch (or of one part)')
    .argument('<batchId>', 'batch id')
    .option('--part <name>', 'part of a multipart batch')
    .option('--json', 'print JSON')
    .action(async (batchId: string, flags: { part?: string; json?: boolean }) => {
      const id = batchIdArg(batchId);
      const count = await withClient(app, (c) =>
        c.countBatch(id, flags.part ? { partName: flags.part } : {}),
      );
      if (flags.json)
        return printJson(app.io, { batchId: id, ...(flags.part ? { partName: flags.part } : {}), count });
      printLine(app.io, String(count));
    });

  addListOptions(
    batches
      .command('shards')
      .summary('ingest status of each shard of a batch (with --out: every page into a JSONL file)')
      .argument('<batchId>', 'batch id')
      .option('-o, --out <file>', 'write every shard to this JSONL file (as list-ingest-details -o)'),
    1000,
  )
    .option('--json', 'print JSON')
    .action(async (batchId: string, flags: ListFlags & { out?: string; json?: boolean }) => {
      const id = batchIdArg(batchId);
      const { limit, page } = listBounds(flags, flags.out ? undefined : 1000);
      const shards = await withClient(app, (c) => takeUpTo(c.listShards(id, page), limit));
      if (flags.out) {
        const file = await writeJsonl(app.io.cwd, flags.out, redactDeep(shards));
        if (flags.json) return printJson(app.io, { batchId: id, out: file.path, shards: file.lines });
        return printLine(app.io, `${file.lines} shards of batch ${id} in ${file.path}`);
      }
      if (flags.json) return printJson(app.io, { batchId: id, shards: redactDeep(shards) });
      printLine(
        app.io,
        table(
          ['SHARD', 'STATUS', 'TYPE', 'ITEMS', 'AT'],
          shards.map((s) => [
            s.shardId,
            s.statusName,
            s.statusType,
            formatCount(s.shardObjectsCount),
            s.eventTimestamp,
          ]),
        ),
      );
    });

  registerBatchContent(batches, app);

  batches
    .command('export')
    .summary('download every file of a batch (each part into its own folder), extracting archives safely')
    .argument('<batchId>', 'batch id (e.g. an output batch of a job: see `rfbatch jobs stages <jobId>`)')
    .requiredOption('-o, --out <dir>', 'folder to download into')
    .option('--part <name...>', 'only these parts of a multipart batch')
    .option('--no-extract', 'keep .tar/.tar.gz archives as they are')
    .option(
      '--override-existing',
      'download (and extract) again the files already in the folder (by default they are kept)',
    )
    .option('--json', 'print what was downloaded as JSON')
    .action(async (batchId: string, flags: ExportFlags) => {
      const id = batchIdArg(batchId);
      const outDir = resolve(app.io.cwd, flags.out);
      const done = await withClient(app, async (c) => {
        const batch = await c.getBatch(id);
        const files: ExportedFile[] = [];
        for (const part of await partsToRead(c, batch, flags.part)) {
          const partName = part?.partName;
          let i = 0;
          for await (const file of c.listFiles(id, partName ? { partName } : {})) {
            const exported = await exportFile(file, i++, partName, outDir, flags);
            files.push(exported);
            if (!flags.json) note(app.io, `  ${describeExported(exported)}`);
          }
        }
        return files;
      });
      if (flags.json) return printJson(app.io, { batchId: id, out: outDir, files: done });
      const kept = done.filter((f) => f.kept).length;
      printLine(
        app.io,
        `${formatCount(done.length)} files of batch ${id} in ${outDir}${kept ? ` (${formatCount(kept)} already there, kept: --override-existing downloads them again)` : ''}`,
      );
    });
}

interface ExportFlags {
  out: string;
  part?: string[];
  extract: boolean;
  overrideExisting?: boolean;
  json?: boolean;
}

type ExportedFile = Omit<FileMetadata, 'downloadURL'> & {
  local: string;
  bytes: number;
  /** Already in the folder from an earlier export, and left as it was (no --override-existing). */
  kept?: true;
  extracted?: number;
};

/**
 * Downloads one listed file into `outDir` (skipping one already there unless --override-existing) and
 * extracts it when it is an archive that is not extracted yet (or again, with --override-existing).
 */
async function exportFile(
  file: FileMetadata,
  index: number,
  partName: string | undefined,
  outDir: string,
  flags: ExportFlags,
): Promise<ExportedFile> {
  // Local names come from fileName/partName, sanitised: never from the URL, never outside outDir.
  const local = localNameOf({ fileName: file.fileName, partName: file.partName ?? partName ?? null }, index);
  const dest = join(outDir, local);
  await mkdir(dirname(dest), { recursive: true });
  const existing = await stat(dest).catch(() => undefined);
  const keep = existing?.isFile() === true && !flags.overrideExisting;
  const bytes = keep && existing ? existing.size : await downloadToFile(file.downloadURL, dest);
  let extracted: number | undefined;
  const into = join(outDir, archiveStem(local));
  // An archive already extracted by an earlier export is left as it is, unless overridden.
  const extractedBefore = await stat(into).catch(() => undefined);
  if (flags.extract && isArchiveName(file.fileName) && (!extractedBefore || flags.overrideExisting))
    extracted = (await safeExtract(dest, into, { label: local })).files;
  return {
    ...withoutUrl(file),
    local,
    bytes,
    ...(keep ? { kept: true as const } : {}),
    ...(extracted !== undefined ? { extracted } : {}),
  };
}

function describeExported(f: ExportedFile): string {
  const extra = [
    ...(f.kept ? ['already there, kept'] : []),
    ...(f.extracted !== undefined ? [`${f.extracted} files extracted`] : []),
  ];
  return `${f.local}  ${formatBytes(f.bytes)}${extra.length ? `  (${extra.join(', ')})` : ''}`;
}
