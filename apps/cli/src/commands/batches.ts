import { mkdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { downloadToFile, redactDeep, type FileMetadata } from '@rfbatch/shared';
import { localNameOf, safeExtract } from '@rfbatch/export';
import type { App } from '../app.js';
import { printJson, printLine, note } from '../io.js';
import { formatBytes, formatCount, table, timeLeft } from '../render/format.js';
import { batchIdArg, limitArg, take, withClient } from '../remote-client.js';

/** Listings without their signed URLs: those are secrets and never printed. */
function withoutUrl(file: FileMetadata): Omit<FileMetadata, 'downloadURL'> {
  const { downloadURL: _url, ...rest } = file;
  return rest;
}

const ARCHIVE = /\.(tar|tar\.gz|tgz)$/i;
const isArchiveName = (name: string) => ARCHIVE.test(name);
/** `a/b.tar.gz` → `a/b`: the folder an archive is extracted into. */
const archiveStem = (local: string) => local.replace(ARCHIVE, '');

const secondsUntil = (iso: string) => Math.round((Date.parse(iso) - Date.now()) / 1000);

export function registerBatches(program: Command, app: App): void {
  const batches = program
    .command('batches')
    .summary('inspect Data Staging batches (as `inference rf-cloud data-staging` does)');

  batches
    .command('ls')
    .summary('list the batches of the workspace')
    .option('-n, --limit <n>', 'how many', '100')
    .option('--json', 'print JSON')
    .action(async (flags: { limit: string; json?: boolean }) => {
      const list = await withClient(app, (c) => take(c.listBatches(), limitArg(flags.limit)));
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
    .summary('show one batch: metadata, parts and item count')
    .argument('<batchId>', 'batch id')
    .option('--json', 'print JSON')
    .action(async (batchId: string, flags: { json?: boolean }) => {
      const id = batchIdArg(batchId);
      const view = await withClient(app, async (c) => {
        const batch = await c.getBatch(id);
        const parts = batch.batchType === 'multipart-batch' ? await c.listParts(id) : [];
        const count = parts.length ? undefined : await c.countBatch(id);
        return { batch, parts, ...(count !== undefined ? { count } : {}) };
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
        printLine(app.io, `  part     ${p.partName} (${p.partType}, ${p.contentType})`);
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

  batches
    .command('shards')
    .summary('ingest status of each shard of a batch')
    .argument('<batchId>', 'batch id')
    .option('-n, --limit <n>', 'how many', '1000')
    .option('--json', 'print JSON')
    .action(async (batchId: string, flags: { limit: string; json?: boolean }) => {
      const id = batchIdArg(batchId);
      const shards = await withClient(app, (c) => take(c.listShards(id), limitArg(flags.limit)));
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

  batches
    .command('export')
    .summary('download every file of a batch (each part into its own folder), extracting archives safely')
    .argument('<batchId>', 'batch id (e.g. an output batch of a job: see `rfbatch jobs stages <jobId>`)')
    .requiredOption('-o, --out <dir>', 'folder to download into')
    .option('--part <name...>', 'only these parts of a multipart batch')
    .option('--no-extract', 'keep .tar/.tar.gz archives as they are')
    .option('--json', 'print what was downloaded as JSON')
    .action(
      async (batchId: string, flags: { out: string; part?: string[]; extract: boolean; json?: boolean }) => {
        const id = batchIdArg(batchId);
        const outDir = resolve(app.io.cwd, flags.out);
        const done = await withClient(app, async (c) => {
          const batch = await c.getBatch(id);
          const parts =
            batch.batchType === 'multipart-batch'
              ? (await c.listParts(id))
                  .map((p) => p.partName)
                  .filter((p) => !flags.part || flags.part.includes(p))
              : [undefined];
          const files: Array<
            Omit<FileMetadata, 'downloadURL'> & { local: string; bytes: number; extracted?: number }
          > = [];
          for (const partName of parts) {
            let i = 0;
            for await (const file of c.listFiles(id, partName ? { partName } : {})) {
              // Local names come from fileName/partName, sanitised: never from the URL, never outside outDir.
              const local = localNameOf(
                { fileName: file.fileName, partName: file.partName ?? partName ?? null },
                i++,
              );
              const dest = join(outDir, local);
              await mkdir(dirname(dest), { recursive: true });
              const existing = await stat(dest).catch(() => undefined);
              const bytes = existing?.isFile() ? existing.size : await downloadToFile(file.downloadURL, dest);
              let extracted: number | undefined;
              const into = join(outDir, archiveStem(local));
              // An archive already extracted by an earlier export is left as it is.
              if (
                flags.extract &&
                isArchiveName(file.fileName) &&
                !(await stat(into).catch(() => undefined))
              ) {
                extracted = (await safeExtract(dest, into, { label: local })).files;
              }
              files.push({
                ...withoutUrl(file),
                local,
                bytes,
                ...(extracted !== undefined ? { extracted } : {}),
              });
              if (!flags.json)
                note(
                  app.io,
                  `  ${local}  ${formatBytes(bytes)}${extracted !== undefined ? `  (${extracted} files extracted)` : ''}`,
                );
            }
          }
          return files;
        });
        if (flags.json) return printJson(app.io, { batchId: id, out: outDir, files: done });
        printLine(app.io, `${formatCount(done.length)} files of batch ${id} in ${outDir}`);
      },
    );
}
