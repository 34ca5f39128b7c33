/**
 * The installable rfbatch: `npm run pack:cli` bundles and packs the CLI, `npm i -g` installs the tarball
 * into a temporary prefix (its npm dependencies from the registry, or the npm cache when it has them),
 * and the installed `rfbatch` runs with plain node: `--version`, then the demo end to end.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRedisUrl } from '@rfbatch/testkit/redis';

const run = promisify(execFile);
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cliVersion = (
  JSON.parse(await readFile(join(repoRoot, 'apps', 'cli', 'package.json'), 'utf8')) as { version: string }
).version;

// What an install sees: no source condition (vitest.config.ts puts one in NODE_OPTIONS for the repo's
// own bins), nothing of the npm script this may run under.
const cleanEnv = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => k !== 'NODE_OPTIONS' && !/^npm_(?!config_)/i.test(k)),
);
delete cleanEnv.npm_config_local_prefix;
delete cleanEnv.npm_config_prefix;
delete cleanEnv.npm_config_global;

let dir: string;
let tarball: string;
let installed: string;
const rfbatch = () => join(dir, 'prefix', 'bin', 'rfbatch');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rfb-pack-'));
  const packed = await run(process.execPath, [join(repoRoot, 'apps/cli/scripts/pack.mjs'), '--out', dir], {
    cwd: repoRoot,
    env: cleanEnv,
  });
  tarball = packed.stdout.trim().split('\n').at(-1) ?? '';
  await run(
    'npm',
    [
      'install',
      '--global',
      '--prefix',
      join(dir, 'prefix'),
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      tarball,
    ],
    { cwd: dir, env: cleanEnv },
  ).catch((error: unknown) => {
    throw new Error(`npm install of the tarball failed: ${String(error)}`);
  });
  // Global installs live in <prefix>/lib/node_modules (this is Linux/macOS).
  installed = join(dir, 'prefix', 'lib', 'node_modules', 'rfbatch');
}, 300_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the packed CLI', () => {
  it('is one tarball of the bundle whose dependencies all come from npm', async () => {
    expect(tarball).toMatch(/rfbatch-\d+\.\d+\.\d+.*\.tgz$/);
    const manifest = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8')) as {
      version: string;
      dependencies: Record<string, string>;
    };
    expect(manifest.version).toBe(cliVersion);
    const deps = Object.keys(manifest.dependencies);
    expect(deps).toContain('bullmq');
    expect(deps.filter((d) => d.startsWith('@rfbatch/') || d === 'tsx' || d === 'typescript')).toEqual([]);
    expect((await readdir(installed)).sort()).toEqual(
      ['README.md', 'bin', 'dist', 'node_modules', 'package.json'].sort(),
    );
    expect((await readdir(join(installed, 'dist'))).filter((f) => !f.endsWith('.js'))).toEqual([]);
  });

  it('`rfbatch --version` prints the version of apps/cli/package.json', async () => {
    const { stdout } = await run(rfbatch(), ['--version'], { cwd: dir, env: cleanEnv });
    expect(stdout.trim()).toBe(cliVersion);
  });

  it('`rfbatch demo` runs the pipeline end to end', async () => {
    const demoDir = join(dir, 'demo');
    const { stdout } = await run(rfbatch(), ['demo', '--images', '20', '--dir', demoDir], {
      cwd: dir,
      env: { ...cleanEnv, REDIS_URL: testRedisUrl(), LOG_LEVEL: 'error' },
      timeout: 120_000,
    });
    expect(stdout).toMatch(/run \S+ completed/);
    const [runId] = await readdir(join(demoDir, 'results'));
    const results = await readFile(join(demoDir, 'results', runId ?? '', 'results.jsonl'), 'utf8');
    expect(results.trim().split('\n')).toHaveLength(20);
  }, 150_000);
});
