/** `npm run schema -w @rfbatch/shared`: regenerates run-spec.schema.json from the zod RunSpec. */
import { writeFileSync } from 'node:fs';
import { renderRunSpecJsonSchema, RUN_SPEC_JSON_SCHEMA_PATH } from './run-spec-json.js';

writeFileSync(RUN_SPEC_JSON_SCHEMA_PATH, renderRunSpecJsonSchema());
process.stdout.write(`wrote ${RUN_SPEC_JSON_SCHEMA_PATH}\n`);
