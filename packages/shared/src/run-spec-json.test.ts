import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderRunSpecJsonSchema, RUN_SPEC_JSON_SCHEMA_PATH } from './run-spec-json.js';

describe('run-spec.schema.json', () => {
  it('is up to date with RunSpecSchema (else run `npm run schema -w @rfbatch/shared`)', () => {
    const onDisk = readFileSync(RUN_SPEC_JSON_SCHEMA_PATH, 'utf8');
    expect(onDisk, 'run-spec.schema.json is stale: run `npm run schema -w @rfbatch/shared`').toBe(
      renderRunSpecJsonSchema(),
    );
  });

  it('describes the contract: required fields, the id rules and no credential field', () => {
    const schema = JSON.parse(readFileSync(RUN_SPEC_JSON_SCHEMA_PATH, 'utf8')) as {
      $schema: string;
      required: string[];
      properties: Record<string, unknown>;
      additionalProperties: boolean;
    };
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.required.sort()).toEqual(['output', 'source', 'workflow']);
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['runId', 'batchId', 'jobId', 'compute', 'notify']),
    );
    expect(Object.keys(schema.properties).some((k) => /key|token|secret/i.test(k))).toBe(false);
    expect(schema.additionalProperties).toBe(false);
  });
});
