/**
 * `.env` in the working folder, read like docker compose and most tools do: `KEY=value` lines
 * (quotes, `export`, comments), never overriding a variable the environment already has.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';

/** The variables of `<cwd>/.env` (empty when there is none). */
export function readDotEnv(cwd: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(join(cwd, '.env'), 'utf8');
  } catch {
    return {};
  }
  return parseEnv(text) as Record<string, string>;
}
