/**
 * Every workspace package a runtime depends on is importable two ways: from its TypeScript source
 * (the `@rfbatch/source` condition for vitest and `node --conditions`, tsconfig `paths` for tsc and
 * tsx) and from its build (plain node: `./dist/*.js`). This keeps the three lists in step.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const readJson = <T>(file: string) => JSON.parse(readFileSync(join(repoRoot, file), 'utf8')) as T;

interface Manifest {
  name: string;
  exports?: Record<string, string | Record<string, string>>;
  dependencies?: Record<string, string>;
}
const workspaces = readJson<{ workspaces: string[] }>('package.json').workspaces.map((dir) => ({
  dir,
  manifest: readJson<Manifest>(join(dir, 'package.json')),
}));
const runtimeDeps = new Set(workspaces.flatMap((w) => Object.keys(w.manifest.dependencies ?? {})));
const base = ts.readConfigFile(join(repoRoot, 'tsconfig.base.json'), ts.sys.readFile);
const paths = (base.config as { compilerOptions: { paths: Record<string, string[]> } }).compilerOptions.paths;

describe('workspace exports', () => {
  it('resolve to the source under @rfbatch/source and to dist/ otherwise, and tsconfig paths match', () => {
    const expected: Record<string, string[]> = {};
    for (const { dir, manifest } of workspaces) {
      for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
        if (typeof target === 'string') {
          // Sources only: a dev-only kit no runtime depends on (it is never built for node).
          expect(
            runtimeDeps.has(manifest.name),
            `${manifest.name} is a dependency: give it dist/ exports`,
          ).toBe(false);
          continue;
        }
        const source = target['@rfbatch/source'] ?? '';
        expect(source, `${manifest.name} ${subpath}`).toMatch(/^\.\/src\/.+\.ts$/);
        const stem = source.slice('./src/'.length, -'.ts'.length);
        expect(target, `${manifest.name} ${subpath}`).toEqual({
          '@rfbatch/source': source,
          types: `./dist/${stem}.d.ts`,
          default: `./dist/${stem}.js`,
        });
        expected[`${manifest.name}${subpath.slice(1)}`] = [`./${dir}${source.slice(1)}`];
      }
    }
    expect(paths).toEqual(expected);
  });
});
