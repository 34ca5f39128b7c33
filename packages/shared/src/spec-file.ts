import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { runPaths } from './manifest.js';
import { resolveRunSpec, RunSpecSchema, type ResolvedRunSpec } from './run-spec.schema.js';
import { storedSpec } from './run-store.js';
import { writeFileAtomic } from './safe-write.js';

/**
 * `spec.json` in the run's work dir: the run's spec as intake received it, so the run can be rebuilt
 * when Redis loses it (`rfbatch recover`). The notify URL is written redacted (its path or query may
 * be a credential, and the work dir is no place for one): a recovered run does not notify.
 */
export function specFilePath(workDir: string, runId: string): string {
  return join(runPaths(workDir, runId).dir, 'spec.json');
}

/** Writes spec.json atomically: an exclusive temp name, then a rename over the target. */
export async function writeSpecFile(workDir: string, spec: ResolvedRunSpec): Promise<void> {
  const path = specFilePath(workDir, spec.runId);
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, JSON.stringify(storedSpec(spec)));
}

/** The run's spec from its work dir, or undefined when there is none. */
export async function readSpecFile(workDir: string, runId: string): Promise<ResolvedRunSpec | undefined> {
  let text: string;
  try {
    text = await readFile(specFilePath(workDir, runId), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return resolveRunSpec({ ...RunSpecSchema.parse(JSON.parse(text)), runId });
}
