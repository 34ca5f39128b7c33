/** `npm run docs:env`: rewrites the environment table of docs/operators.md from the schemas. */
import { readFile, writeFile } from 'node:fs/promises';
import { OPERATORS_DOC, withEnvSection } from './env-docs.js';

const doc = await readFile(OPERATORS_DOC, 'utf8');
const next = withEnvSection(doc);
if (next === doc) {
  process.stdout.write('docs/operators.md: the environment table is up to date\n');
} else {
  await writeFile(OPERATORS_DOC, next);
  process.stdout.write('docs/operators.md: environment table regenerated\n');
}
