import { realpathSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { looksLikeUrl } from './bucket-url.js';
import { ErrorCode, RfbatchError } from './errors.js';
import type { RunSpec } from './run-spec.schema.js';

/**
 * Where runs may read sources and write outputs. `RFBATCH_ALLOWED_ROOTS` sets both; `RFBATCH_SOURCE_ROOTS`
 * and `RFBATCH_OUTPUT_ROOTS` set one kind each (colon-separated absolute folders). No roots: anywhere
 * (a local, single-user setup). Checked at submit on the path as written (lexically), and by the
 * workers on the real path (symlinks resolved), so a link inside a root cannot lead out of it.
 */
export interface AllowedRoots {
  source: readonly string[];
  output: readonly string[];
}

export type RootKind = keyof AllowedRoots;

const VARIABLE: Record<RootKind, string> = {
  source: 'RFBATCH_SOURCE_ROOTS',
  output: 'RFBATCH_OUTPUT_ROOTS',
};

/** `"/data:/srv/in"` → absolute, normalised folders. Throws naming a relative entry. */
export function parseRoots(text: string | undefined): string[] {
  const roots = (text ?? '').split(':').filter(Boolean);
  const relativeOne = roots.find((r) => !isAbsolute(r));
  if (relativeOne) throw new Error(`"${relativeOne}" is not an absolute folder`);
  return roots.map((r) => resolve(r));
}

/** True when some roots are configured for either kind (the gateway refuses a network bind without). */
export function hasRoots(roots: AllowedRoots): boolean {
  return roots.source.length > 0 || roots.output.length > 0;
}

function inside(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

function refusal(kind: RootKind, field: string, path: string, roots: readonly string[], real?: string) {
  const via = real && real !== path ? ` (it leads to ${real})` : '';
  return new RfbatchError(
    ErrorCode.validation,
    `${field} "${path}"${via} is outside the allowed ${kind} roots (${roots.join(', ')})`,
    {
      hint: `use a folder under one of them, or have the operator add it to ${VARIABLE[kind]} (or RFBATCH_ALLOWED_ROOTS)`,
    },
  );
}

/** The spec's paths that roots confine, by kind and field name (the references URL is not a path). */
function confinedPaths(spec: Pick<RunSpec, 'source' | 'output'>) {
  const paths: Array<{ kind: RootKind; field: string; path: string }> = [];
  if (
    (spec.source.kind === 'directory' || spec.source.kind === 'references') &&
    spec.source.path !== undefined
  )
    paths.push({ kind: 'source', field: 'source.path', path: spec.source.path });
  // Roots confine local folders; what a bucket output may reach is up to the credentials' policy.
  if (!looksLikeUrl(spec.output.dir))
    paths.push({ kind: 'output', field: 'output.dir', path: spec.output.dir });
  return paths;
}

/**
 * Submit-time check (gateway, CLI, the runs queue's intake): each path, made absolute against
 * `cwd`, must be inside a root of its kind. The workers check the real path again.
 */
export function checkRootsLexically(
  spec: Pick<RunSpec, 'source' | 'output'>,
  roots: AllowedRoots,
  cwd = process.cwd(),
): void {
  for (const { kind, field, path } of confinedPaths(spec)) {
    const allowed = roots[kind];
    if (allowed.length === 0) continue;
    const abs = resolve(cwd, path);
    if (!allowed.some((root) => inside(abs, root))) throw refusal(kind, field, path, allowed);
  }
}

/**
 * The real path of `path`: the longest part that exists with every symlink resolved, plus the rest
 * (an output folder may not exist yet).
 */
export async function realPathOf(path: string): Promise<string> {
  const abs = resolve(path);
  const rest: string[] = [];
  for (let at = abs; ; at = dirname(at)) {
    try {
      return join(await realpath(at), ...rest.reverse());
    } catch {
      if (dirname(at) === at) return abs;
      rest.push(basename(at));
    }
  }
}

/** Each root as its real path too (a root that is itself a symlink, e.g. /tmp on some systems). */
function realRoots(roots: readonly string[]): string[] {
  return roots.flatMap((r) => {
    try {
      return [r, realpathSync(r)];
    } catch {
      return [r];
    }
  });
}

/** Worker-time check: the real path of each path (symlinks resolved) must be inside a root of its kind. */
export async function checkRootsReally(
  spec: Pick<RunSpec, 'source' | 'output'>,
  roots: AllowedRoots,
): Promise<void> {
  for (const { kind, field, path } of confinedPaths(spec)) {
    const allowed = roots[kind];
    if (allowed.length === 0) continue;
    const real = await realPathOf(path);
    if (!realRoots(allowed).some((root) => inside(real, root)))
      throw refusal(kind, field, path, allowed, real);
  }
}
