import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { EnvSchema } from '@rfbatch/shared';
import { ENV_DOCS_COMMAND, envVariables, OPERATORS_DOC, withEnvSection } from './env-docs.js';

describe('the environment table of docs/operators.md', () => {
  it('is the one the schemas give', async () => {
    const doc = await readFile(OPERATORS_DOC, 'utf8');
    expect(doc, `docs/operators.md is stale: run \`${ENV_DOCS_COMMAND}\` and commit it`).toBe(
      withEnvSection(doc),
    );
  });

  it('lists every shared variable and every service option once, each with a meaning', () => {
    const names = envVariables().map((v) => v.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of Object.keys(EnvSchema.shape)) expect(names).toContain(name);
    for (const prefix of ['INGEST', 'JOBS', 'EXPORT', 'GATEWAY'])
      expect(
        names.some((n) => n.startsWith(`RFBATCH_${prefix}_`)),
        prefix,
      ).toBe(true);
    for (const v of envVariables()) expect(v.description.length, v.name).toBeGreaterThan(5);
  });
});
