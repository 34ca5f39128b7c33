import type { Command } from 'commander';
import type { App } from '../app.js';
import { reportOutcome } from '../follow.js';
import { note, printJson, printLine } from '../io.js';
import { formatCount, table } from '../render/format.js';
import { withClient } from '../remote-client.js';
import { addStagingOptions, specFromFlags, type RunFlags } from '../run-options.js';
import { executeRun } from './run.js';

interface StageFlags extends Pick<
  RunFlags,
  | 'batchId'
  | 'runId'
  | 'out'
  | 'videos'
  | 'include'
  | 'recursive'
  | 'batchName'
  | 'ingestId'
  | 'notificationsUrl'
  | 'notificationCategory'
> {
  local?: boolean;
  json?: boolean;
}

/**
 * `rfbatch stage <source>`: staging only (the official `create-batch-of-images|videos`): uploads the
 * source as a run would, waits until the batch is indexed, prints its count and shard report. No job
 * starts; `rfbatch run --batch <id>` runs a Workflow on it later.
 */
export function registerStage(program: Command, app: App): void {
  const command = program
    .command('stage')
    .summary('upload a source into a staging batch and wait until it is indexed (no job)')
    .argument('<source>', 'folder of images/videos, a .jsonl references file, or an https URL of one')
    .option('--batch-id <id>', 'staging batch id (default rfb-<run id>)')
    .option('--run-id <id>', 'run id (default: generated)')
    .option('-o, --out <dir>', 'folder for the run files (default ./rfbatch-results/<run id>)')
    .option('--videos', 'the source holds videos, not images')
    .option(
      '--include <ext>',
      'only files with this extension (repeatable)',
      (v: string, p: string[] = []) => [...p, v],
    )
    .option('--no-recursive', 'do not descend into sub-folders');
  addStagingOptions(command)
    .option('--local', 'run every worker in this process (default when no worker is running)')
    .option('--json', 'print {runId, batchId, count, shards} on stdout')
    .action(async (source: string, flags: StageFlags) => {
      const warn = (message: string) => note(app.io, `warning: ${message}`);
      const spec = specFromFlags(source, { ...flags, workflow: 'stage-only' }, app.io.cwd, { warn });
      await executeRun(app, { ...spec, mode: 'stage-only' }, flags, async (handle, state) => {
        const stored = await handle.store.spec(state.runId);
        if (state.status !== 'completed') {
          return reportOutcome(app.io, handle.store, state, { json: flags.json === true });
        }
        const { count, shards } = await withClient(app, async (c) => {
          const all = [];
          for await (const s of c.listShards(stored.batchId)) all.push(s);
          return { count: await c.countBatch(stored.batchId), shards: all };
        });
        if (flags.json)
          return printJson(app.io, { runId: state.runId, batchId: stored.batchId, count, shards });
        printLine(app.io, `✓ batch ${stored.batchId} staged: ${formatCount(count)} items indexed`);
        if (shards.length)
          printLine(
            app.io,
            table(
              ['SHARD', 'STATUS', 'TYPE', 'ITEMS'],
              shards.map((s) => [s.shardId, s.statusName, s.statusType, String(s.shardObjectsCount)]),
            ),
          );
        printLine(app.io, `  run a Workflow on it: rfbatch run --batch ${stored.batchId} --workflow <id>`);
      });
    });
}
