/** Reads docker-compose.yml: the commands and environment each service runs with. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from '../cli/cli-harness.js';

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  profiles?: string[];
  environment?: Record<string, string>;
  deploy?: { replicas?: number };
  depends_on?: Record<string, { condition?: string; required?: boolean }> | string[];
  ports?: string[];
  volumes?: string[];
  healthcheck?: unknown;
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

const COMPOSE_PATH = join(repoRoot, 'docker-compose.yml');

export function readCompose(): ComposeFile {
  return parse(readFileSync(COMPOSE_PATH, 'utf8'), { merge: true }) as ComposeFile;
}

/**
 * Resolves compose's `${VAR}`, `${VAR:-default}` and `${VAR:?message}` with `values`, as
 * `docker compose` would with those variables set.
 */
export function interpolate(text: string, values: Record<string, string | undefined>): string {
  return text.replace(
    /\$\{([A-Z0-9_]+)(?::([-?])([^}]*))?\}/g,
    (_m, name: string, kind: string | undefined, rest: string | undefined) => {
      const value = values[name];
      if (value !== undefined && value !== '') return value;
      if (kind === '?') throw new Error(`compose needs ${name}: ${rest ?? ''}`);
      return kind === '-' ? (rest ?? '') : '';
    },
  );
}
