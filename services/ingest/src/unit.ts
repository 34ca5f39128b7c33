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
import { readPlanFile, type PlanFile } from '@rfbatch/shared';

/** The manifest lines of one upload unit (at most a few thousand small objects). */
export async function readUnit(workDir: string, runId: string, range: ByteRange): Promise<ManifestEntry[]> {
  const out: ManifestEntry[] = [];
  try {
    for await (const entry of readJsonLines(runPaths(workDir, runId).manifest, ManifestEntry, range))
      out.push(entry);
  } catch (error) {
    throw missingWork(workDir, runId, error);
  }
  return out;
}

/** The finished plan of a run; an error when the work dir does not hold it (not shared storage?). */
export async function requirePlan(workDir: string, runId: string): Promise<PlanFile> {
  const plan = await readPlanFile(runPaths(workDir, runId).plan).catch((error: unknown) => {
    throw missingWork(workDir, runId, error);
  });
  if (!plan) throw missingWork(workDir, runId, undefined);
  return plan;
}

/** Where a manifest entry's file is: under the plan's absolute root (or the spec's folder). */
export function sourceFile(plan: PlanFile, spec: ResolvedRunSpec, entry: ManifestEntry): string | Buffer {
  const root = plan.root ?? (spec.source.kind === 'directory' ? resolve(spec.source.path) : '.');
  return sourcePathOf(root, entry);
}

function missingWork(workDir: string, runId: string, cause: unknown): RfbatchError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  return new RfbatchError(
    ErrorCode.run,
    `the plan of run "${runId}" is missing or unreadable in the work dir ${resolve(workDir)}${code ? ` (${code})` : ''}`,
    {
      retryable: code !== 'ENOENT' && code !== undefined,
      cause,
      hint: 'every ingest worker must see the same RFBATCH_WORK_DIR (shared storage when workers run on several hosts)',
    },
  );
}
