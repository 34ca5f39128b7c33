/** How to run a run again: the `rfbatch run` command line and the RunSpec, with secrets redacted. */
import {
  DEFAULT_PRESIGN_SECONDS,
  redactDeep,
  redactUrl,
  sourceLabel,
  type ResolvedRunSpec,
} from '@rfbatch/shared';

/**
 * A notify URL may hold its secret anywhere (a chat webhook keeps it in the path), so only its
 * origin is shown.
 */
function redactNotify(url: string): string {
  try {
    const u = new URL(url);
    return u.pathname === '/' && !u.search ? u.origin : `${u.origin}/<redacted>`;
  } catch {
    return '<redacted>';
  }
}

/** The spec as the report shows it: every secret-looking value redacted, the notify URL to its origin. */
export function reportSpec(spec: ResolvedRunSpec): ResolvedRunSpec {
  const clean = redactDeep(spec);
  const source =
    clean.source.kind === 'references' && clean.source.url
      ? { ...clean.source, url: redactUrl(clean.source.url) }
      : clean.source;
  return { ...clean, source, ...(spec.notify ? { notify: redactNotify(spec.notify) } : {}) };
}

/** A shell word, quoted when it needs to be. */
function word(text: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * The `rfbatch run` command that runs the same source through the same Workflow again, as a new run
 * (new ids: the same run id would name the finished run).
 */
export function reproduceCommand(spec: ResolvedRunSpec): string {
  const s = reportSpec(spec);
  const source = s.source.kind === 'staged' ? '' : sourceLabel(s);
  const args: string[] = ['rfbatch', 'run', word(source), '--workflow', word(s.workflow.workflowId)];
  const flag = (name: string, value: string | number | undefined) => {
    if (value !== undefined) args.push(name, word(String(value)));
  };
  flag('--out', s.output.dir);
  if (s.source.media === 'videos') args.push('--videos');
  if (s.source.kind === 'directory' && !s.source.recursive) args.push('--no-recursive');
  if (s.source.kind === 'directory' || s.source.kind === 'bucket')
    for (const ext of s.source.include ?? []) flag('--include', ext);
  if (s.source.kind === 'bucket') {
    if (s.source.mode !== 'references') flag('--bucket-mode', s.source.mode);
    if (s.source.presignSeconds !== DEFAULT_PRESIGN_SECONDS)
      flag('--presign-seconds', s.source.presignSeconds);
  }
  if (s.workflow.aggregationFormat !== 'jsonl') flag('--aggregation', s.workflow.aggregationFormat);
  flag('--image-input', s.workflow.imageInputName);
  for (const [k, v] of Object.entries(s.workflow.parameters ?? {}))
    flag('--param', `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  if (s.compute.machineType !== 'cpu') flag('--machine', s.compute.machineType);
  flag('--workers-per-machine', s.compute.workersPerMachine);
  flag('--timeout', s.processingTimeoutSeconds);
  flag('--max-parallel-tasks', s.maxParallelTasks);
  flag('--max-image-failure-rate', s.maxImageFailureRate);
  flag('--job-name', s.jobName);
  flag('--notify', s.notify);
  return args.join(' ');
}
