/**
 * The examples every command's `--help` ends with, by command path (`jobs logs`). A command without
 * an entry fails program.test.ts: each new command brings its examples.
 */
import type { Command } from 'commander';

export const EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  run: [
    'rfbatch run ./images --workflow my-workflow                 # local workers when none are running',
    'rfbatch run ./images -w my-workflow --out ./results --json  # stdout: summary.json',
    'rfbatch run refs.jsonl -w my-workflow --machine gpu --workers-per-machine 2',
    'rfbatch run --batch my-batch --part images -w my-workflow  # a batch staged before (rfbatch stage)',
    'rfbatch run --job job-abc123                                # adopt a job started elsewhere',
    'rfbatch run ./images -w my-workflow --batch-name "Shelf photos" --notifications-url https://hooks.example.com/rf',
  ],
  stage: [
    'rfbatch stage ./images --batch-id my-batch        # upload, wait until indexed; no job',
    'rfbatch stage refs.jsonl --batch-id my-batch --json',
    'rfbatch stage ./images --batch-id my-batch --batch-name "Shelf photos"   # official -bn',
    'rfbatch stage refs.jsonl --ingest-id nightly --notifications-url https://hooks.example.com/rf --notification-category ingest-status files-status',
  ],
  preflight: [
    'rfbatch preflight ./images --workflow my-workflow',
    'rfbatch preflight ./videos --videos -w my-workflow --json',
  ],
  submit: [
    'rfbatch submit ./images --workflow my-workflow               # returns at once; workers do the rest',
    'rfbatch submit ./images -w my-workflow --run-id nightly-2026-12-03 --json',
    'rfbatch submit refs.jsonl -w my-workflow --ingest-id nightly --notifications-url https://hooks.example.com/rf',
  ],
  status: ['rfbatch status                # the newest run', 'rfbatch status <runId> --json'],
  report: ['rfbatch report                # the newest run', 'rfbatch report ./results --open'],
  watch: ['rfbatch watch                 # the newest run, like status', 'rfbatch watch <runId> --local'],
  ls: ['rfbatch ls', 'rfbatch ls --limit 50 --json'],
  cancel: ['rfbatch cancel <runId>'],
  recover: ['rfbatch recover <runId>', 'rfbatch recover <runId> --json'],
  retry: [
    'rfbatch retry <runId>',
    'rfbatch retry <runId> --suggested',
    'rfbatch retry <runId> --machine gpu --timeout 7200',
  ],
  workers: [
    'rfbatch workers                              # ingest, jobs and export in one process',
    'rfbatch workers --only ingest --concurrency 8',
    'RFBATCH_METRICS_PORT=9464 rfbatch workers    # /metrics and /healthz of this process',
  ],
  gateway: ['rfbatch gateway --port 8080', 'RFBATCH_GATEWAY_TOKEN=… rfbatch gateway --host 0.0.0.0'],
  emulator: ['rfbatch emulator --port 9000', 'rfbatch emulator --help'],
  demo: ['rfbatch demo', 'rfbatch demo --images 200 --keep'],
  schema: ['rfbatch schema > run-spec.schema.json'],
  batches: ['rfbatch batches ls', 'rfbatch batches show <batchId>'],
  'batches ls': ['rfbatch batches ls --limit 20 --json', 'rfbatch batches ls --all --page-size 500'],
  'batches show': ['rfbatch batches show <batchId>'],
  'batches count': ['rfbatch batches count <batchId>', 'rfbatch batches count <batchId> --part <partName>'],
  'batches shards': [
    'rfbatch batches shards <batchId>',
    'rfbatch batches shards <batchId> -o ingest.jsonl     # every page, as list-ingest-details -o',
  ],
  'batches content': [
    'rfbatch batches content <batchId> --limit 20',
    'rfbatch batches content <batchId> --part <partName> -o content.jsonl',
    'rfbatch batches content <batchId> -o content.jsonl --with-urls   # signed URLs, file mode 0600',
  ],
  'batches export': [
    'rfbatch batches export <batchId> --out ./outputs',
    'rfbatch batches export <batchId> --no-extract',
    'rfbatch batches export <batchId> -o ./outputs --override-existing  # download again what is there',
  ],
  jobs: ['rfbatch jobs ls', 'rfbatch jobs logs <jobId> --severity error'],
  'jobs ls': ['rfbatch jobs ls --limit 20', 'rfbatch jobs ls --max-pages 2 --page-size 10'],
  'jobs show': ['rfbatch jobs show <jobId> --json'],
  'jobs stages': ['rfbatch jobs stages <jobId>'],
  'jobs tasks': ['rfbatch jobs tasks <jobId> <stage>'],
  'jobs logs': [
    'rfbatch jobs logs <jobId>',
    'rfbatch jobs logs <jobId> --severity error --limit 50',
    'rfbatch jobs logs <jobId> -o logs.jsonl        # every page',
  ],
  'jobs trt-compile': [
    'rfbatch jobs trt-compile --model-id my-project/3',
    'rfbatch jobs trt-compile -m my-project/3 --device nvidia-l4 --job-name nightly-trt --json',
  ],
  'jobs abort': ['rfbatch jobs abort <jobId> --yes'],
  'jobs restart': ['rfbatch jobs restart <jobId> --workers-per-machine 1 --yes'],
  completion: [
    'rfbatch completion bash > ~/.local/share/bash-completion/completions/rfbatch',
    'rfbatch completion zsh > "${fpath[1]}/_rfbatch"',
    'rfbatch completion fish > ~/.config/fish/completions/rfbatch.fish',
  ],
};

/** The path of a command below the program: `jobs logs`. */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Adds the examples to `command` and every subcommand defined under it that has some. */
export function addExamples(command: Command): void {
  const examples = EXAMPLES[commandPath(command)];
  if (examples) command.addHelpText('after', `\nExamples:\n${examples.map((e) => `  $ ${e}`).join('\n')}\n`);
  for (const sub of command.commands) addExamples(sub);
}
