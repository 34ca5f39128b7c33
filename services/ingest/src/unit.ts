import { resolve } from 'node:path';
import {
  ManifestEntry,
  readJsonLines,
  runPaths,
  sourcePathOf,
  type ByteRange,
  type ResolvedRunSpec,
} from '@rfbatch/shared';
import { ErrorCode, RfbatchError } from '@rfbatch/shared';
import { readPlanFile, type Config, type PlanFile } from '@rfbatch/shared';
import { workMirrorOf } from '@rfbatch/object-store';

/** Where a process finds a run's files: its work dir, mirrored to `workUrl` when one is set. */
export type WorkConfig = Pick<Config, 'workDir' | 'workUrl'>;

/**
 * The manifest lines of one upload unit (at most a few thousand small objects): from the local
 * manifest, or with a mirrored work dir a ranged GET of the manifest's mirror (never the whole file).
 */
export async function readUnit(
  config: WorkConfig,
  runId: string,
  range: ByteRange,
): Promise<ManifestEntry[]> {
  const manifest = runPaths(config.workDir, runId).manifest;
  const out: ManifestEntry[] = [];
  try {
    const input = await workMirrorOf(config)?.readRange(manifest, range);
    for await (const entry of readJsonLines(manifest, ManifestEntry, range, input)) out.push(entry);
  } catch (error) {
    throw missingWork(config, runId, error);
  }
  return out;
}

/** The finished plan of a run; an error when neither the work dir nor its mirror holds it. */
export async function requirePlan(config: WorkConfig, runId: string): Promise<PlanFile> {
  const path = runPaths(config.workDir, runId).plan;
  const plan = await (workMirrorOf(config)?.pull(path) ?? Promise.resolve(true))
    .then(() => readPlanFile(path))
    .catch((error: unknown) => {
      throw missingWork(config, runId, error);
    });
  if (!plan) throw missingWork(config, runId, undefined);
  return plan;
}

/**
 * With a mirrored work dir, publishes a fresh plan: the manifest and skipped list first, the plan
 * last (its presence in the mirror means the others are complete).
 */
export async function publishPlan(config: WorkConfig, runId: string): Promise<void> {
  const mirror = workMirrorOf(config);
  if (!mirror) return;
  const paths = runPaths(config.workDir, runId);
  await mirror.push(paths.manifest);
  await mirror.push(paths.skipped);
  await mirror.push(paths.plan);
}

/** With a mirrored work dir, makes the run's plan, manifest and skipped list local (another host planned). */
export async function pullPlan(config: WorkConfig, runId: string): Promise<boolean> {
  const mirror = workMirrorOf(config);
  if (!mirror) return false;
  const paths = runPaths(config.workDir, runId);
  // Only the mirror's copy counts: a local plan from a try cut before publishing must be published.
  if (!(await mirror.has(paths.plan))) return false;
  await mirror.pull(paths.plan);
  await mirror.pull(paths.manifest);
  await mirror.pull(paths.skipped);
  return true;
}

/** Where a manifest entry's file is: under the plan's absolute root (or the spec's folder). */
export function sourceFile(plan: PlanFile, spec: ResolvedRunSpec, entry: ManifestEntry): string | Buffer {
  const root = plan.root ?? (spec.source.kind === 'directory' ? resolve(spec.source.path) : '.');
  return sourcePathOf(root, entry);
}

function missingWork(config: WorkConfig, runId: string, cause: unknown): RfbatchError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  const where = config.workUrl
    ? `the work dir ${resolve(config.workDir)} and its mirror ${config.workUrl}`
    : `the work dir ${resolve(config.workDir)}`;
  const retryable = cause instanceof RfbatchError ? cause.retryable : code !== 'ENOENT' && code !== undefined;
  return new RfbatchError(
    ErrorCode.run,
    `the plan of run "${runId}" is missing or unreadable in ${where}${code ? ` (${code})` : ''}`,
    {
      retryable,
      cause,
      hint: config.workUrl
        ? 'every worker must have the same RFBATCH_WORK_URL and credentials that can read it'
        : 'every ingest worker must see the same RFBATCH_WORK_DIR (shared storage when workers run on several hosts), or set RFBATCH_WORK_URL to a bucket prefix',
    },
  );
}
