/**
 * The environment table of docs/operators.md, generated from the schemas: the shared configuration
 * (EnvSchema) and every service's options schema. `npm run docs:env` writes it between the markers;
 * env-docs.test.ts fails when the committed table is stale.
 */
import { fileURLToPath } from 'node:url';
import { configVariables, type EnvVariable } from '@rfbatch/shared';
import { ALL_SERVICES } from './workers.js';

export const OPERATORS_DOC = fileURLToPath(new URL('../../../docs/operators.md', import.meta.url));
export const ENV_DOCS_COMMAND = 'npm run docs:env';
const BEGIN = `<!-- env-table:begin — generated from the options schemas by \`${ENV_DOCS_COMMAND}\`; edit the schemas, not this table -->`;
const END = '<!-- env-table:end -->';

export function envVariables(): EnvVariable[] {
  return [...configVariables(), ...ALL_SERVICES.flatMap((s) => s.options.variables)];
}

/** A markdown table laid out the way prettier lays it out (so `prettier --check` passes). */
function table(header: string[], rows: string[][]): string {
  const cells = [header, ...rows].map((row) => row.map((cell) => cell.replaceAll('|', '\\|')));
  const width = (text: string) => [...text].length;
  const widths = header.map((_, i) => Math.max(3, ...cells.map((row) => width(row[i] ?? ''))));
  const line = (row: string[]) =>
    `| ${row.map((cell, i) => cell + ' '.repeat((widths[i] ?? 0) - width(cell))).join(' | ')} |`;
  const [head = [], ...body] = cells;
  return [line(head), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...body.map(line)].join('\n');
}

/** The generated part: every variable, then the old names still read. */
function envSection(variables: readonly EnvVariable[] = envVariables()): string {
  const renamed = variables.flatMap((v) => v.formerly.map((old) => [`\`${old}\``, `\`${v.name}\``]));
  return [
    BEGIN,
    '',
    table(
      ['Variable', 'Default', 'Used by', 'Meaning'],
      variables.map((v) => [`\`${v.name}\``, v.defaultText, v.usedBy, v.description]),
    ),
    '',
    'Renamed variables are still read, with a warning at start-up that names the new one; when both',
    'are set, the new one wins.',
    '',
    table(['Old name', 'New name'], renamed),
    '',
    END,
  ].join('\n');
}

/** `doc` with its generated section replaced by the current one. */
export function withEnvSection(doc: string, section: string = envSection()): string {
  const begin = doc.indexOf('<!-- env-table:begin');
  const end = doc.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`docs/operators.md has no "${BEGIN}" … "${END}" markers`);
  return `${doc.slice(0, begin)}${section}${doc.slice(end + END.length)}`;
}
