#!/usr/bin/env node
/* global URL */
/**
 * `npm run pack:cli`: the installable rfbatch, as one npm tarball.
 *
 * The workspace packages (@rfbatch/*) are private and never published, so the CLI cannot depend on
 * them: esbuild bundles the CLI and the emulator, with every @rfbatch/* package they import, from
 * their TypeScript sources into dist/ (split at the CLI's lazy imports, so `--version` still loads
 * almost nothing). Every other package stays an ordinary npm dependency of the staged package.json,
 * at the exact version package-lock.json tests (their own dependencies resolve by range as in any
 * install: npm ignores an npm-shrinkwrap.json in a local tarball), and `npm i -g ./rfbatch-<version>.tgz`
 * fetches them from the registry (or the npm cache).
 *
 *   node apps/cli/scripts/pack.mjs [--out <dir>]   → <dir>/rfbatch-<version>.tgz (default apps/cli/dist)
 *
 * Prints the tarball's path as its last stdout line.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repo = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const cliDir = join(repo, 'apps', 'cli');
const args = process.argv.slice(2);
const outIndex = args.indexOf('--out');
const outDir = resolve(outIndex >= 0 && args[outIndex + 1] ? args[outIndex + 1] : join(cliDir, 'dist'));
const stage = join(outDir, 'pack');

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
const rootManifest = readJson(join(repo, 'package.json'));
const cliManifest = readJson(join(cliDir, 'package.json'));
const lock = readJson(join(repo, 'package-lock.json'));

/** Workspace folder → its manifest, for every workspace of the repo. */
const workspaces = new Map(
  rootManifest.workspaces.map((dir) => [dir, readJson(join(repo, dir, 'package.json'))]),
);
const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
const packageName = (specifier) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');

/** Every bare import that is not @rfbatch/* or a Node built-in stays an import of an npm package. */
const externalPackages = {
  name: 'external-packages',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (a) => {
      if (a.path.startsWith('@rfbatch/') || builtins.has(a.path)) return undefined;
      return { path: a.path, external: true };
    });
  },
};

/**
 * `import.meta.resolve('@rfbatch/emulator')` (how `rfbatch emulator` finds the emulator's bin) names a
 * package the install does not have: in the bundle it is the emulator's entry, dist/emulator.js, whose
 * `../bin/rfbatch-emulator.js` is the staged bin. Any other import.meta.resolve would break the same
 * way, so it stops the build.
 */
const metaResolve = {
  name: 'import-meta-resolve',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, (a) => {
      if (a.path.split(sep).includes('node_modules')) return undefined;
      const source = readFileSync(a.path, 'utf8');
      if (!source.includes('import.meta.resolve')) return undefined;
      const contents = source.replace(
        /import\.meta\.resolve\(\s*(['"])@rfbatch\/emulator\1\s*\)/g,
        "new URL('./emulator.js', import.meta.url).href",
      );
      if (contents.includes('import.meta.resolve'))
        throw new Error(
          `${relative(repo, a.path)}: import.meta.resolve has no bundled equivalent; teach pack.mjs`,
        );
      return { contents, loader: 'ts' };
    });
  },
};

rmSync(stage, { recursive: true, force: true });
mkdirSync(join(stage, 'bin'), { recursive: true });

const result = await build({
  absWorkingDir: repo,
  entryPoints: {
    main: 'apps/cli/src/main.ts',
    emulator: 'packages/emulator/src/main.ts',
  },
  outdir: join(stage, 'dist'),
  // Flat dist/: a module's `new URL('../package.json', import.meta.url)` reads the staged manifest.
  chunkNames: '[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // The workspace packages from their TypeScript sources (see their package.json "exports").
  conditions: ['@rfbatch/source'],
  keepNames: true,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
  plugins: [externalPackages, metaResolve],
});

// ── dependencies: what the bundle imports, with the range and the tested version ──────────────────
const bundledWorkspaces = new Set();
for (const input of Object.keys(result.metafile.inputs)) {
  for (const dir of workspaces.keys()) if (input.startsWith(`${dir}/`)) bundledWorkspaces.add(dir);
}
const imported = new Map(); // package → 'static' | 'dynamic'
for (const output of Object.values(result.metafile.outputs)) {
  for (const imp of output.imports) {
    if (!imp.external || builtins.has(imp.path)) continue;
    const name = packageName(imp.path);
    const kind = imp.kind === 'dynamic-import' ? 'dynamic' : 'static';
    if (imported.get(name) !== 'static') imported.set(name, kind);
  }
}
const dependencies = {};
const declaredBy = new Map(); // package → workspace folder whose "dependencies" list it
for (const [name, kind] of [...imported].sort(([a], [b]) => a.localeCompare(b))) {
  const dir = [...bundledWorkspaces].find((d) => workspaces.get(d).dependencies?.[name]);
  if (!dir) {
    // A test-only helper reached through a dynamic import (testcontainers for redisForTests): the
    // installed CLI never takes that path, and the import fails with a clear error if it ever did.
    if (kind === 'dynamic') {
      process.stderr.write(`pack: ${name} is imported dynamically only and is not a dependency: left out\n`);
      continue;
    }
    throw new Error(
      `the bundle imports ${name}, which no bundled workspace (${[...bundledWorkspaces].join(', ')}) lists in "dependencies"`,
    );
  }
  dependencies[name] = workspaces.get(dir).dependencies[name];
  declaredBy.set(name, dir);
}

/** Node's lookup over package-lock keys: `from`'s own node_modules, then each folder above it. */
function lockKeyOf(from, name) {
  let dir = from;
  for (;;) {
    const key = `${dir ? `${dir}/` : ''}node_modules/${name}`;
    if (lock.packages[key]) return key;
    if (!dir) return undefined;
    const nested = dir.lastIndexOf('/node_modules/');
    dir = nested >= 0 ? dir.slice(0, nested) : dirname(dir);
    if (dir === '.') dir = '';
  }
}
// Each direct dependency at the version package-lock.json tests (npm resolved it from the range).
for (const name of Object.keys(dependencies)) {
  const key = lockKeyOf(declaredBy.get(name), name);
  if (!key) throw new Error(`package-lock.json has no ${name} for ${declaredBy.get(name)}: run npm install`);
  dependencies[name] = lock.packages[key].version;
}

// ── the staged package ────────────────────────────────────────────────────────────────────────────
const bin = { rfbatch: 'bin/rfbatch.js', 'rfbatch-emulator': 'bin/rfbatch-emulator.js' };
const manifest = {
  name: 'rfbatch',
  version: cliManifest.version,
  description: rootManifest.description,
  // Built for an install from its tarball; `npm publish` of it stays a deliberate step.
  private: true,
  type: 'module',
  engines: rootManifest.engines,
  bin,
  files: ['bin', 'dist'],
  dependencies,
};
writeFileSync(join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
const bins = {
  'bin/rfbatch.js': '../dist/main.js',
  'bin/rfbatch-emulator.js': '../dist/emulator.js',
};
for (const [file, entry] of Object.entries(bins)) {
  writeFileSync(join(stage, file), `#!/usr/bin/env node\nimport '${entry}';\n`);
  chmodSync(join(stage, file), 0o755);
}
writeFileSync(
  join(stage, 'README.md'),
  `# rfbatch ${manifest.version}\n\n${manifest.description}\n\n` +
    '`rfbatch --help` lists the commands; `rfbatch demo` runs the whole pipeline on sample images against ' +
    'the bundled local emulator (it needs Redis: `redis-server` on PATH, a server on 127.0.0.1:6379, or REDIS_URL).\n',
);

const [packed] = JSON.parse(
  execFileSync('npm', ['pack', '--json', '--pack-destination', outDir], {
    cwd: stage,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }),
);
const tarball = join(outDir, packed.filename);
process.stderr.write(
  `pack: ${packed.entryCount} files, ${(statSync(tarball).size / 1024).toFixed(0)} KiB packed ` +
    `(${(packed.unpackedSize / 1024).toFixed(0)} KiB unpacked), ${Object.keys(dependencies).length} dependencies\n`,
);
process.stdout.write(`${tarball}\n`);
