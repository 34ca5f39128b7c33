/**
 * Failure triage: why a remote job failed, the log lines that show it, and what to restart it with.
 *
 * The real service's wording of its failure logs is not documented (roboflow-api.md §3.8 gives only
 * the log shape), so the cause is read with broad, case-insensitive patterns over every text field of
 * a log (`logType`, `payload.reason|type|message|error|…`) and the job's `lastNotification` — the
 * words a worker, a container runtime or a Python traceback use for each cause — never with one exact
 * sentence. The emulator's fault logs are one instance of these patterns, not their definition.
 * Causes are ranked: a line that names several (an OOM message that mentions the workflow) counts for
 * the most specific one, and the job's class is the highest-ranked cause any line shows.
 */
import {
  describeError,
  estimateTimeoutBudget,
  ManifestEntry,
  readJsonLines,
  redactText,
  type FailureClass,
  type JobLog,
  type JobMetadata,
  type JobStageDetails,
  type JobTriage,
  type MediaKind,
  type RoboflowClient,
  type RetryOverrides,
} from '@rfbatch/shared';

/** Causes in rank order, each with the patterns that show it (any one of them). */
const CAUSES: readonly { class: Exclude<FailureClass, 'unknown'>; patterns: RegExp[] }[] = [
  { class: 'aborted', patterns: [/\b(job|task)[- ]aborted\b|\baborted by (the )?(user|request)/i] },
  {
    class: 'input-missing',
    patterns: [
      /\binput[- ]error\b|\binput (data|batch|shard)\b[^.;]*\b(gone|missing|not found|expired|deleted)\b|\bhas expired\b|\bexpired or (was )?deleted\b/i,
    ],
  },
  {
    class: 'out-of-memory',
    patterns: [
      /out[- ]of[- ]memory|\boom(killed)?\b|\bworker[- ]oom\b|exit code 137|\bsigkill\b.*memory|memoryerror|memory limit|cannot allocate memory|bad_alloc/i,
    ],
  },
  {
    class: 'timeout',
    patterns: [
      /\btimed?[- ]?out\b|\btimeout\b|deadline exceeded|exceeded [^.;]*\b(time|runtime|duration|processingtimeoutseconds)\b|max(imum)?[- ]runtime/i,
    ],
  },
  {
    class: 'image-failures',
    patterns: [
      /\bimage[- ]failures?\b|\bimages? failed\b|\bfailed images?\b|failure rate|maximagefailurerate|too many (image )?failures/i,
    ],
  },
  {
    class: 'workflow-error',
    patterns: [
      /\bworkflow\b|\bstep\b[^.;]*\b(raised|failed)\b|traceback|execution failed|\bblock\b[^.;]*\b(failed|error)\b/i,
      // Exception class names (RuntimeError, KeyError, ValueError…): case-sensitive, so a plain "error" is not one.
      /\b[A-Z][A-Za-z]*(Error|Exception)\b/,
    ],
  },
];

/** Payload keys that may hold a failed image's name. */
const IMAGE_KEYS = ['fileName', 'file_name', 'imageName', 'image_name', 'image', 'inputName'] as const;
const IMAGE_LIST_KEYS = ['failedImages', 'failed_images', 'fileNames', 'file_names', 'failedFiles'] as const;
const MAX_EVIDENCE = 5;
const MAX_FAILED_IMAGES = 50;
const MAX_LINE = 300;

export interface TriageInput {
  jobId: string;
  /** The job as last read (definition, restart overrides, last notification). */
  job?: JobMetadata | undefined;
  /** Its logs: error severity first, then warnings (for the failed images). */
  logs: JobLog[];
  logsTruncated?: boolean;
  /** Its stages, for the number of chunks a timeout was split across. */
  stages?: JobStageDetails[] | undefined;
  /** Items in the job's input (the run's expected count), for a timeout estimate. */
  itemCount?: number | undefined;
  media?: MediaKind;
  /** The run, for the retry command in the suggestion. */
  runId?: string | undefined;
  /** Problems met while reading (shown as evidence). */
  readProblems?: string[];
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}
function num(value: unknown): number | undefined {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

/** Every text of a log that may name its cause, joined. */
function logText(log: JobLog): string {
  const p = log.payload;
  const parts = [
    log.logType,
    str(p.reason),
    str(p.type),
    str(p.errorType),
    str(p.error_type),
    str(p.message),
    str(p.error),
    str(p.detail),
    str(p.details),
  ];
  if (p.error && typeof p.error === 'object') parts.push(JSON.stringify(p.error));
  return parts.filter((x): x is string => x !== undefined).join(' | ');
}

/** The readable message of a log. */
function messageOf(log: JobLog): string {
  const p = log.payload;
  return str(p.message) ?? str(p.error) ?? str(p.detail) ?? JSON.stringify(p);
}

/** What a log says, for the evidence: `2026-… [error] processing-00003: <message>`. */
function evidenceLine(log: JobLog): string {
  const text = messageOf(log);
  const where = log.taskId ?? log.processingStageId;
  const line = `${log.createdAt} [${log.severity}] ${log.logType}${where ? ` ${where}` : ''}: ${text}`;
  return redactText(line.length > MAX_LINE ? `${line.slice(0, MAX_LINE)}…` : line);
}

/** The message of the last notification alone (to tell whether the logs already said it). */
function notificationMessage(job: JobMetadata | undefined): string | undefined {
  const n = job?.lastNotification;
  return typeof n === 'string' ? n : (str(n?.message) ?? str(n?.error));
}

function notificationText(job: JobMetadata | undefined): string | undefined {
  const n = job?.lastNotification;
  if (n === null || n === undefined) return undefined;
  if (typeof n === 'string') return n;
  return (
    [str(n.type), str(n.reason), str(n.message), str(n.error)].filter(Boolean).join(' | ') ||
    JSON.stringify(n).slice(0, MAX_LINE)
  );
}

function classOf(text: string): Exclude<FailureClass, 'unknown'> | undefined {
  return CAUSES.find((c) => c.patterns.some((p) => p.test(text)))?.class;
}

/** A setting of the job as it last ran: the latest restart override that set it, else the definition. */
function effective(
  job: JobMetadata | undefined,
  key: 'processingTimeoutSeconds' | 'maxImageFailureRate' | 'maxParallelTasks',
): number | undefined {
  const overrides = job?.restartParametersOverride ?? [];
  for (let i = overrides.length - 1; i >= 0; i--) {
    const v = num(overrides[i]?.[key]);
    if (v !== undefined) return v;
  }
  return num(job?.jobDefinition[key]);
}

function effectiveCompute(job: JobMetadata | undefined): {
  machineType: 'cpu' | 'gpu' | undefined;
  workersPerMachine: number | undefined;
} {
  const merged: Record<string, unknown> = {
    ...(job?.jobDefinition.computeConfiguration as Record<string, unknown> | undefined),
  };
  for (const o of job?.restartParametersOverride ?? []) {
    for (const [k, v] of Object.entries(
      (o.computeConfiguration as Record<string, unknown> | undefined) ?? {},
    ))
      if (v !== undefined) merged[k] = v;
  }
  const machine = merged.machineType;
  return {
    machineType: machine === 'gpu' || machine === 'cpu' ? machine : undefined,
    workersPerMachine: num(merged.workersPerMachine),
  };
}

/** The CLI flags of a suggestion, in the order `rfbatch retry` documents them. */
export function retryFlags(o: RetryOverrides): string {
  const flags: string[] = [];
  if (o.machineType) flags.push(`--machine ${o.machineType}`);
  if (o.workersPerMachine !== undefined) flags.push(`--workers-per-machine ${o.workersPerMachine}`);
  if (o.processingTimeoutSeconds !== undefined) flags.push(`--timeout ${o.processingTimeoutSeconds}`);
  if (o.maxParallelTasks !== undefined) flags.push(`--max-parallel-tasks ${o.maxParallelTasks}`);
  if (o.maxImageFailureRate !== undefined) flags.push(`--max-image-failure-rate ${o.maxImageFailureRate}`);
  return flags.join(' ');
}

function failedImagesOf(logs: JobLog[]): string[] {
  const names = new Set<string>();
  for (const log of logs) {
    if (log.severity === 'info') continue;
    const p = log.payload;
    const found: unknown[] = [
      ...IMAGE_KEYS.map((k) => p[k]),
      ...IMAGE_LIST_KEYS.flatMap((k) => (Array.isArray(p[k]) ? (p[k] as unknown[]) : [])),
    ];
    for (const value of found) {
      const name =
        str(value) ??
        str((value as { file_name?: unknown; fileName?: unknown } | null)?.file_name) ??
        str((value as { fileName?: unknown } | null)?.fileName);
      if (name) names.add(name);
      if (names.size >= MAX_FAILED_IMAGES) return [...names];
    }
  }
  return [...names];
}

/** `N of M images failed` from a payload's counts or a message. */
function imageFailureCounts(logs: JobLog[]): { failed: number; total: number } | undefined {
  for (const log of logs) {
    const p = log.payload;
    const failed = num(p.imagesFailed) ?? num(p.failedImages) ?? num(p.failures);
    const total = num(p.imagesTotal) ?? num(p.itemsTotal) ?? num(p.total);
    if (failed !== undefined && total !== undefined && total > 0) return { failed, total };
    const m = /(\d+) of (\d+) images? failed/i.exec(logText(log));
    if (m) return { failed: Number(m[1]), total: Number(m[2]) };
  }
  return undefined;
}

/** The budget that ran out: the job's setting, else the number a timeout message names. */
function timeoutOf(job: JobMetadata | undefined, lines: string[]): number | undefined {
  const set = effective(job, 'processingTimeoutSeconds');
  if (set !== undefined) return set;
  for (const line of lines) {
    const m = /processingTimeoutSeconds\D{0,12}(\d+)/i.exec(line) ?? /timeout of (\d+) ?s\b/i.exec(line);
    if (m) return Number(m[1]);
  }
  return undefined;
}

function processedBefore(logs: JobLog[]): number | undefined {
  for (const log of logs) {
    const n =
      num(log.payload.imagesProcessed) ?? num(log.payload.itemsProcessed) ?? num(log.payload.processed);
    if (n !== undefined && n > 0) return n;
  }
  return undefined;
}

function roundRateUp(rate: number): number {
  return Math.min(1, Math.ceil((rate + 0.0001) * 20) / 20);
}

/**
 * Classifies a failed job from what was read of it. Pure: the same input gives the same triage.
 * Only error logs (and the last notification) decide the class; warnings supply failed image names.
 */
export function classifyJobFailure(input: TriageInput): JobTriage {
  const errors = input.logs.filter((l) => l.severity === 'error');
  const note = notificationText(input.job);
  const matches = new Map<FailureClass, JobLog[]>();
  for (const log of errors) {
    const cls = classOf(logText(log));
    if (cls) matches.set(cls, [...(matches.get(cls) ?? []), log]);
  }
  const noteClass = note ? classOf(note) : undefined;
  const cls: FailureClass =
    CAUSES.find((c) => matches.has(c.class) || noteClass === c.class)?.class ?? 'unknown';

  const shown = cls === 'unknown' ? errors : (matches.get(cls) ?? []);
  // One line per distinct message: a task's error and the job's error often repeat each other.
  const messages = new Set<string>();
  const evidence: string[] = [];
  for (const log of shown) {
    if (messages.has(messageOf(log)) || evidence.length >= MAX_EVIDENCE) continue;
    messages.add(messageOf(log));
    evidence.push(evidenceLine(log));
  }
  const noteMessage = notificationMessage(input.job);
  const noteNew = noteMessage === undefined || !messages.has(noteMessage);
  if (note && noteNew && (cls === 'unknown' || noteClass === cls) && evidence.length < MAX_EVIDENCE) {
    evidence.push(redactText(`last notification: ${note.slice(0, MAX_LINE)}`));
  }
  evidence.push(...(input.readProblems ?? []).map(redactText));
  if (evidence.length === 0) evidence.push('(the job reported no error logs and no notification text)');

  const retry = (o?: RetryOverrides) =>
    input.runId
      ? `rfbatch retry ${input.runId}${o && retryFlags(o) ? ` ${retryFlags(o)}` : ''}`
      : `restart job "${input.jobId}"${o ? ` with ${retryFlags(o)}` : ''}`;
  const base = { evidence, logsRead: input.logs.length, logsTruncated: input.logsTruncated ?? false };
  const tasks = input.stages?.find((s) => s.processingStageName === 'processing')?.tasksNumber;

  switch (cls) {
    case 'out-of-memory': {
      const { machineType, workersPerMachine } = effectiveCompute(input.job);
      const machine = machineType ?? 'cpu';
      const now = `${workersPerMachine ?? 'the default number of'} workers per ${machine} machine`;
      if (workersPerMachine === undefined || workersPerMachine > 1) {
        const o = { workersPerMachine: 1 };
        return {
          class: cls,
          ...base,
          summary: `the job ran out of memory with ${now}: each worker loads the Workflow's models, so fewer workers per machine leave each one more memory (or use --machine gpu)`,
          suggestedOverrides: o,
          suggestion: retry(o),
        };
      }
      if (machine === 'cpu') {
        const o = { machineType: 'gpu' as const };
        return {
          class: cls,
          ...base,
          summary: `the job ran out of memory even with 1 worker per cpu machine: a gpu machine has more memory for the Workflow's models`,
          suggestedOverrides: o,
          suggestion: retry(o),
        };
      }
      return {
        class: cls,
        ...base,
        summary:
          'the job ran out of memory even with 1 worker per gpu machine: the Workflow needs less memory (a smaller model, no tiling/SAHI, smaller inputs)',
        suggestion: `make the Workflow lighter, then ${retry()}`,
      };
    }
    case 'timeout': {
      const failedBudget = timeoutOf(input.job, [...shown.map(logText), note ?? '']);
      const processed = processedBefore(shown);
      const chunks = tasks ?? 1;
      const perChunk = failedBudget !== undefined ? failedBudget / chunks : undefined;
      const machine = effectiveCompute(input.job).machineType ?? 'cpu';
      const budget = estimateTimeoutBudget({
        items: input.itemCount ?? 0,
        media: input.media ?? 'images',
        machineType: machine,
        ...(tasks !== undefined ? { chunks: tasks } : {}),
        ...(perChunk !== undefined && processed ? { measuredSecondsPerItem: perChunk / processed } : {}),
        ...(failedBudget !== undefined ? { failedBudgetSeconds: failedBudget } : {}),
      });
      const split =
        failedBudget !== undefined
          ? `processingTimeoutSeconds (${failedBudget} s) is the whole job's machine time, split evenly across its ${chunks} chunk${chunks === 1 ? '' : 's'} (about ${Math.round(failedBudget / chunks)} s each)`
          : "processingTimeoutSeconds is the whole job's machine time, split evenly across its chunks";
      const o = { processingTimeoutSeconds: budget.seconds };
      return {
        class: cls,
        ...base,
        summary: `the job timed out: ${split}; ${budget.seconds} s should fit (${budget.basis})`,
        suggestedOverrides: o,
        suggestion: retry(o),
      };
    }
    case 'image-failures': {
      const counts = imageFailureCounts(shown.length ? shown : errors);
      const limit = effective(input.job, 'maxImageFailureRate');
      const failedImages = failedImagesOf(input.logs);
      const observed = counts ? counts.failed / counts.total : undefined;
      const rate =
        observed !== undefined ? roundRateUp(observed) : roundRateUp(Math.max(0.1, (limit ?? 0) * 2));
      const o = { maxImageFailureRate: rate };
      const what = counts
        ? `${counts.failed} of ${counts.total} images failed in a chunk (rate ${observed?.toFixed(3)})`
        : 'too many images failed in a chunk';
      const limitText =
        limit !== undefined
          ? `maxImageFailureRate ${limit}`
          : 'the default limit (10 failed images per chunk)';
      return {
        class: cls,
        ...base,
        summary: `${what}, above ${limitText}; restart accepting them, or fix or remove the failed images${failedImages.length ? ` (${failedImages.length}${failedImages.length >= MAX_FAILED_IMAGES ? '+' : ''} named in the logs)` : ''} and retry`,
        suggestedOverrides: o,
        suggestion: retry(o),
        ...(failedImages.length ? { failedImages: failedImages.map((name) => ({ name })) } : {}),
      };
    }
    case 'workflow-error':
      return {
        class: cls,
        ...base,
        summary:
          'the Workflow itself failed (see the evidence): no restart setting fixes that; fix the Workflow or its parameters first',
        suggestion: `fix the Workflow, then ${retry()}`,
      };
    case 'input-missing':
      return {
        class: cls,
        ...base,
        summary: "the job's input data is gone (staged data expires 7 days after upload)",
        suggestion: `${retry()} re-stages the inputs into a fresh batch and starts a new job`,
      };
    case 'aborted':
      return { class: cls, ...base, summary: 'the job was aborted', suggestion: retry() };
    case 'unknown':
      return {
        class: cls,
        ...base,
        summary: 'the logs name no known cause (out of memory, timeout, image failures, workflow error)',
        suggestion: `read all logs with \`rfbatch jobs logs ${input.jobId}\`; ${retry()} restarts the job`,
      };
  }
}

/**
 * Names the source file of each failed image from the run's manifest (remote name → source path),
 * reading it once and stopping when every name is found. A missing manifest leaves the triage as it is.
 */
export async function withSources(triage: JobTriage, manifestPath: string): Promise<JobTriage> {
  if (!triage.failedImages?.length) return triage;
  const wanted = new Set(triage.failedImages.map((f) => f.name));
  const found = new Map<string, string>();
  try {
    for await (const entry of readJsonLines(manifestPath, ManifestEntry)) {
      if (!wanted.has(entry.name)) continue;
      found.set(entry.name, entry.source);
      if (found.size === wanted.size) break;
    }
  } catch {
    return triage; // no manifest here (another host's work dir): the names alone
  }
  return {
    ...triage,
    failedImages: triage.failedImages.map((f) =>
      found.has(f.name) ? { ...f, source: found.get(f.name) } : f,
    ),
  };
}

export interface TriageOptions {
  /** The job as just read (saves a request). */
  job?: JobMetadata | undefined;
  itemCount?: number | undefined;
  media?: MediaKind;
  runId?: string | undefined;
  /** Most log lines read per severity (errors first, then warnings). @defaultValue 2_000 */
  maxLogsPerSeverity?: number;
}

/**
 * Reads a failed job (its metadata, all pages of its error logs, then its warning logs, and its
 * stages) and classifies it. Reading problems never throw: the triage says what could not be read.
 */
export async function triageJobFailure(
  client: RoboflowClient,
  jobId: string,
  options: TriageOptions = {},
): Promise<JobTriage> {
  const cap = options.maxLogsPerSeverity ?? 2_000;
  const readProblems: string[] = [];
  let job = options.job;
  if (!job) {
    try {
      job = (await client.getJob(jobId)).job;
    } catch (error) {
      readProblems.push(`(the job could not be read: ${describeError(error)})`);
    }
  }
  const logs: JobLog[] = [];
  let truncated = false;
  for (const severity of ['error', 'warning'] as const) {
    let n = 0;
    try {
      for await (const log of client.listLogs(jobId, { severity })) {
        // A server that ignores the filter still gets each line read once, under its own severity.
        if (log.severity !== severity) continue;
        if (n++ >= cap) {
          truncated = true;
          break;
        }
        logs.push(log);
      }
    } catch (error) {
      readProblems.push(`(the job's ${severity} logs could not be read: ${describeError(error)})`);
    }
  }
  let stages: JobStageDetails[] | undefined;
  try {
    stages = await client.listStages(jobId);
  } catch {
    stages = undefined; // only refines a timeout estimate
  }
  return classifyJobFailure({
    jobId,
    job,
    logs,
    logsTruncated: truncated,
    stages,
    itemCount: options.itemCount,
    ...(options.media ? { media: options.media } : {}),
    runId: options.runId,
    readProblems,
  });
}
