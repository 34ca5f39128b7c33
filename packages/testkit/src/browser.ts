/**
 * A Chromium for the browser tests, found without help: CHROMIUM_PATH when set (it must exist), else
 * a system Chromium/Chrome, else the one the npm package @sparticuz/chromium ships inside itself
 * (a brotli-compressed binary, unpacked once to the temp folder, with the NSS/expat libraries it
 * needs) — the npm registry is the one source every machine here reaches. None of them: a loud error
 * saying what was tried and how to get one. `RFBATCH_TEST_BROWSER=system|packaged` picks one kind.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { brotliDecompressSync } from 'node:zlib';

export interface FoundBrowser {
  executablePath: string;
  /** Where it came from: `CHROMIUM_PATH`, `system`, or `@sparticuz/chromium <version>`. */
  source: string;
  /** Variables the browser needs (the packaged one: LD_LIBRARY_PATH to its libraries). */
  env: Record<string, string>;
  /** Launch flags for headless use in a container (no sandbox, no GPU, nothing phoning home). */
  args: string[];
}

export interface FindBrowserOptions {
  env?: Readonly<Record<string, string | undefined>>;
  /** @defaultValue the usual Debian/Ubuntu/Fedora paths */
  systemPaths?: readonly string[];
}

const SYSTEM_PATHS = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/snap/bin/chromium',
];

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const readText = (file: string): string => (existsSync(file) ? readFileSync(file, 'utf8') : '');

/** Unpacks `<name>.tar.br` of the package into `dir` (once). */
function untarBrotli(archive: string, dir: string): void {
  mkdirSync(dir, { recursive: true });
  const tar = spawnSync('tar', ['-x', '-C', dir], { input: brotliDecompressSync(readFileSync(archive)) });
  if (tar.status !== 0) throw new Error(`could not unpack ${archive}: ${tar.stderr.toString().trim()}`);
}

async function packaged(): Promise<FoundBrowser | string> {
  const require = createRequire(import.meta.url);
  let dir: string;
  try {
    // Its `exports` hide package.json: from the entry up to the package folder.
    dir = dirname(require.resolve('@sparticuz/chromium'));
    while (!/"name":\s*"@sparticuz\/chromium"/.test(readText(join(dir, 'package.json')))) dir = dirname(dir);
  } catch {
    return '@sparticuz/chromium is not installed (npm ci installs it with the test kit)';
  }
  const version = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string })
    .version;
  const bin = join(dir, 'bin');
  const { default: chromium } = (await import('@sparticuz/chromium')) as {
    default: { executablePath(): Promise<string> };
  };
  const executablePath = await chromium.executablePath();
  // The libraries it links beyond glibc (a system Chromium brings them; a bare machine does not).
  const libs = join(tmpdir(), `rfbatch-chromium-${version}`);
  if (!existsSync(join(libs, 'lib', 'libnss3.so'))) untarBrotli(join(bin, 'al2023.tar.br'), libs);
  return {
    executablePath,
    source: `@sparticuz/chromium ${version}`,
    env: { LD_LIBRARY_PATH: [join(libs, 'lib'), process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') },
    args: [...ARGS, '--single-process', '--no-zygote'],
  };
}

/** The Chromium to launch, or an error naming every place looked at and what to do. */
export async function findChromium(options: FindBrowserOptions = {}): Promise<FoundBrowser> {
  const env = options.env ?? process.env;
  if (env.CHROMIUM_PATH) {
    if (!existsSync(env.CHROMIUM_PATH))
      throw new Error(
        `CHROMIUM_PATH=${env.CHROMIUM_PATH} does not exist: point it at a Chromium binary, or unset it`,
      );
    return { executablePath: env.CHROMIUM_PATH, source: 'CHROMIUM_PATH', env: {}, args: ARGS };
  }
  const kind = env.RFBATCH_TEST_BROWSER;
  const tried: string[] = [];
  if (kind !== 'packaged') {
    const paths = options.systemPaths ?? SYSTEM_PATHS;
    const system = paths.find((p) => existsSync(p));
    if (system) return { executablePath: system, source: 'system', env: {}, args: ARGS };
    tried.push(`no system Chromium (${paths.join(', ') || 'none looked at'})`);
  }
  if (kind !== 'system') {
    const found = await packaged();
    if (typeof found !== 'string') return found;
    tried.push(found);
  }
  throw new Error(
    `no Chromium for the browser tests: ${tried.join('; ')} — install one (\`apt-get install -y chromium\`), run \`npm ci\` for @sparticuz/chromium, or set CHROMIUM_PATH`,
  );
}
