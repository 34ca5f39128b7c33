/**
 * Named profiles, like `aws --profile`: one JSON file of profiles, each with the API URL, where the
 * API key comes from, the workspace, Redis, the prefix, the work folder and defaults for command
 * flags. JSON (not TOML) because the CLI already reads and validates JSON (RunSpec files) with zod:
 * no parser dependency, the same one-line errors naming the field, and tools can write it.
 *
 * The file: `$RFBATCH_CONFIG`, else `.rfbatch.json` in the working folder, else
 * `$XDG_CONFIG_HOME/rfbatch/config.json` (`~/.config/rfbatch/config.json`). The profile:
 * `--profile <name>`, else `$RFBATCH_PROFILE`, else `default` when the file has one. Its values are
 * defaults: a variable set in the environment (or in `.env`) and a flag given on the command line win.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Profile, ProfileFlags } from './config-profile.schema.js';
import { CliError, ExitCode } from './exit-codes.js';

export interface LoadedProfile {
  name: string;
  file: string;
  /** Variables the profile sets (under the environment's own). */
  env: Record<string, string>;
  flags: ProfileFlags;
}

type Env = Readonly<Record<string, string | undefined>>;

const expandHome = (path: string, env: Env) => path.replace(/^~(?=$|\/)/, env.HOME ?? '~');

/** The config file to read: the first of RFBATCH_CONFIG, ./.rfbatch.json, the XDG one that exists. */
function configFile(cwd: string, env: Env): string | undefined {
  if (env.RFBATCH_CONFIG) return resolve(cwd, expandHome(env.RFBATCH_CONFIG, env));
  const xdg = env.XDG_CONFIG_HOME || (env.HOME ? join(env.HOME, '.config') : undefined);
  const candidates = [join(cwd, '.rfbatch.json'), ...(xdg ? [join(xdg, 'rfbatch', 'config.json')] : [])];
  return candidates.find((file) => readText(file) !== undefined);
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** `--profile <name>` or `--profile=<name>` in argv. */
function profileFlag(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') break;
    if (arg === '--profile') return argv[i + 1] ?? '';
    if (arg.startsWith('--profile=')) return arg.slice('--profile='.length);
  }
  return undefined;
}

/**
 * The profile an invocation uses, or undefined when there is no config file and none was asked for.
 * A bad file, an unknown profile or an unreadable key source is a one-line configuration error.
 */
export async function loadProfile(
  argv: readonly string[],
  cwd: string,
  env: Env,
): Promise<LoadedProfile | undefined> {
  const asked = profileFlag(argv) ?? env.RFBATCH_PROFILE;
  const file = configFile(cwd, env);
  if (!file) {
    if (asked === undefined) return undefined;
    throw new CliError(
      ExitCode.config,
      `profile "${asked}" asked for, but there is no config file (.rfbatch.json here, or ~/.config/rfbatch/config.json)`,
      'create one with {"profiles": {"<name>": {"apiUrl": …, "apiKeyEnv": …, "redisUrl": …}}}, or set RFBATCH_CONFIG to its path',
    );
  }
  const text = readText(file);
  if (text === undefined)
    throw new CliError(
      ExitCode.config,
      `config file ${file} (RFBATCH_CONFIG) cannot be read`,
      'check the path',
    );
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CliError(
      ExitCode.config,
      `config file ${file} is not JSON: ${(error as Error).message}`,
      'fix its syntax',
    );
  }
  // zod only when there is a file to check: `rfbatch --version` stays light.
  const { ConfigFileSchema } = await import('./config-profile.schema.js');
  const parsed = ConfigFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join('.') || '(top level)';
    throw new CliError(
      ExitCode.config,
      `config file ${file}: ${where}: ${issue?.message ?? 'invalid'}`,
      'see "Profiles" in README.md for the fields a profile takes',
    );
  }
  const profiles = parsed.data.profiles;
  const name = asked ?? 'default';
  const profile = profiles[name];
  if (!profile) {
    if (asked === undefined) return undefined;
    const names = Object.keys(profiles);
    throw new CliError(
      ExitCode.usage,
      `profile "${name}" is not in ${file}`,
      names.length ? `its profiles: ${names.join(', ')}` : 'the file has no profiles yet',
    );
  }
  return { name, file, env: profileEnv(name, profile, env), flags: profile.flags ?? {} };
}

function profileEnv(name: string, p: Profile, env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  const set = (key: string, value: string | undefined) => {
    if (value !== undefined) out[key] = value;
  };
  set('ROBOFLOW_API_URL', p.apiUrl);
  set('ROBOFLOW_WORKSPACE', p.workspace);
  set('REDIS_URL', p.redisUrl);
  set('RFBATCH_PREFIX', p.prefix);
  set('RFBATCH_WORK_DIR', p.workDir && expandHome(p.workDir, env));
  if (p.apiKeyEnv) {
    const key = env[p.apiKeyEnv];
    if (!key)
      throw new CliError(
        ExitCode.config,
        `profile "${name}" takes its API key from ${p.apiKeyEnv}, which is not set`,
        `export ${p.apiKeyEnv}=<private API key>, or change the profile's apiKeyEnv`,
      );
    set('ROBOFLOW_API_KEY', key);
  }
  if (p.apiKeyFile) {
    const path = expandHome(p.apiKeyFile, env);
    const key = readText(path)?.trim();
    if (!key)
      throw new CliError(
        ExitCode.config,
        `profile "${name}" takes its API key from ${path}, which cannot be read or is empty`,
        "write the private API key into that file (chmod 600), or change the profile's apiKeyFile",
      );
    set('ROBOFLOW_API_KEY', key);
  }
  return out;
}
