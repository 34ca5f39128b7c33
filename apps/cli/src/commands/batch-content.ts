/**
 * `rfbatch batches content <batch>`: the files a batch holds (the official `list-batch-content`), over
 * every page of `GET /batches/{id}/list`, part by part for a multipart batch.
 */
import type { Command } from 'commander';
import type { FileMetadata } from '@rfbatch/shared';
import type { App } from '../app.js';
import { partsToRead } from '../batch-parts.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { printJson, printLine } from '../io.js';
import { openJsonl } from '../jsonl-file.js';
import { addListOptions, listBounds, takeUpTo, type ListFlags } from '../list-options.js';
import { formatCount, table } from '../render/format.js';
import { batchIdArg, withClient } from '../remote-client.js';

interface ContentFlags extends ListFlags {
  part?: string[];
  out?: string;
  withUrls?: boolean;
  json?: boolean;
}

/** A file as shown: its listing without the signed download URL (a credential) unless asked for. */
type ContentEntry = Omit<FileMetadata, 'downloadURL'> & { downloadURL?: string };

function entryOf(file: FileMetadata, withUrl: boolean): ContentEntry {
  const { downloadURL, ...rest } = file;
  return withUrl ? { ...rest, downloadURL } : rest;
}

export function registerBatchContent(batches: Command, app: App): void {
  const command = batches
    .command('content')
    .summary('list the files of a batch (every page; each part of a multipart batch)')
    .argument('<batchId>', 'batch id')
    .option('--part <name...>', 'only these parts of a multipart batch')
    .option('-o, --out <file>', 'write the listing to this JSONL file (one file per line)');
  addListOptions(command)
    .option(
      '--with-urls',
      'with --out: include the signed download URLs (credentials: the file is made 0600)',
    )
    .option('--json', 'print JSON')
    .action(async (batchId: string, flags: ContentFlags) => {
      const id = batchIdArg(batchId);
      if (flags.withUrls && !flags.out)
        throw new CliError(
          ExitCode.usage,
          '--with-urls needs --out <file>: signed download URLs are credentials and are never printed',
        );
      const { limit, page } = listBounds(flags);
      const withUrls = flags.withUrls === true;
      const file = flags.out ? await openJsonl(app.io.cwd, flags.out, withUrls ? 0o600 : 0o644) : undefined;
      const shown: ContentEntry[] = [];
      try {
        await withClient(app, async (c) => {
          const batch = await c.getBatch(id);
          let left = limit;
          for (const part of await partsToRead(c, batch, flags.part)) {
            if (left !== undefined && left <= 0) break;
            const listing = c.listFiles(id, { ...page, ...(part ? { partName: part.partName } : {}) });
            for (const f of await takeUpTo(listing, left)) {
              const entry = entryOf(f, withUrls);
              if (file) await file.write(entry);
              else shown.push(entry);
              if (left !== undefined) left--;
            }
          }
        });
      } catch (error) {
        await file?.abort();
        throw error;
      }
      await file?.close();
      if (file) {
        if (flags.json) return printJson(app.io, { batchId: id, out: file.path, files: file.lines });
        return printLine(app.io, `${formatCount(file.lines)} files of batch ${id} listed in ${file.path}`);
      }
      if (flags.json) return printJson(app.io, { batchId: id, files: shown });
      printLine(
        app.io,
        table(
          ['FILE', 'PART', 'CONTENT', 'SHARD'],
          shown.map((f) => [f.fileName, f.partName ?? '-', f.contentType, f.shardId ?? '-']),
        ),
      );
    });
}
