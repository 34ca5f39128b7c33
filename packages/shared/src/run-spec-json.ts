/** The RunSpec as JSON Schema (for producers in other languages), kept in packages/shared/run-spec.schema.json. */
import { fileURLToPath } from 'node:url';
import { runSpecJsonSchema } from './run-spec.schema.js';

/**
 * The schema's `$id`: a name, not a location (the gateway serves the document at `GET /schema`, and
 * the file ships in @rfbatch/shared); it changes when a spec that was valid no longer is.
 */
export const RUN_SPEC_SCHEMA_ID = 'urn:rfbatch:schema:run-spec:v1';

export const RUN_SPEC_JSON_SCHEMA_PATH = fileURLToPath(new URL('../run-spec.schema.json', import.meta.url));

/** The file's exact content: generated from RunSpecSchema, so it can never drift from the zod truth. */
export function renderRunSpecJsonSchema(): string {
  const { $schema, ...rest } = runSpecJsonSchema();
  const document = {
    $schema,
    $id: RUN_SPEC_SCHEMA_ID,
    title: 'rfbatch RunSpec',
    description:
      'One rfbatch run: process this source with this Roboflow Workflow and put the results here. ' +
      'Generated from RunSpecSchema (packages/shared/src/run-spec.schema.ts) by `npm run schema -w @rfbatch/shared`; do not edit.',
    ...rest,
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}
