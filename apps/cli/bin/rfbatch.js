#!/usr/bin/env node
// Plain node on the compiled code: `#main` (package.json "imports") is dist/main.js, built by
// `npm run build`. In development, NODE_OPTIONS=--conditions=@rfbatch/source makes it src/main.ts
// instead, and tsx — a devDependency, never part of an install — runs the TypeScript.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = import.meta.resolve('#main');
if (main.endsWith('.ts')) (await import('tsx/esm/api')).register();
else if (!existsSync(fileURLToPath(main))) {
  process.stderr.write(
    `${fileURLToPath(main)} is not built: run \`npm run build\` (or run the sources: NODE_OPTIONS=--conditions=@rfbatch/source)\n`,
  );
  process.exit(1);
}
await import(main);
