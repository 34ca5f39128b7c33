/**
 * The environment one invocation runs in: the process's own variables, then `.env` in the working
 * folder, then the chosen profile (config-profile.ts) — each only where the one before has nothing —
 * and the profile's flag defaults under the flags given on the command line.
 */
import type { Command } from 'commander';
import { loadProfile, type LoadedProfile } from './config-profile.js';
import { readDotEnv } from './dotenv.js';
import type { CliIO } from './io.js';

export async function cliEnvironment(
  argv: readonly string[],
  io: CliIO,
): Promise<{ io: CliIO; profile: LoadedProfile | undefined }> {
  const own = { ...readDotEnv(io.cwd), ...io.env };
  const profile = await loadProfile(argv, io.cwd, own);
  return { io: { ...io, env: profile ? { ...profile.env, ...own } : own }, profile };
}

/**
 * Gives `command` (and, as they run, its subcommands) the profile's flag defaults: an option the
 * command line or the environment left at its default takes the profile's value (commander's
 * `config` source, so a flag given wins and a required option is satisfied).
 */
export function applyFlagDefaults(command: Command, flags: LoadedProfile['flags']): void {
  for (const option of command.options) {
    const key = option.attributeName();
    const source = command.getOptionValueSource(key);
    if (Object.hasOwn(flags, key) && (source === undefined || source === 'default'))
      command.setOptionValueWithSource(key, flags[key], 'config');
  }
  command.hook('preSubcommand', (_parent, sub) => applyFlagDefaults(sub, flags));
}
