/**
 * "Did you mean" for a misspelled option, even a required one: commander reports a missing required
 * option before an unknown one, so `rfbatch run ./imgs --workflw x` said `required option
 * '--workflow' not specified`. With this, an unknown option given on the command line is reported
 * first, with commander's own suggestion (`unknown option '--workflw' (Did you mean --workflow?)`).
 */
import type { Command, Option } from 'commander';

interface CommandInternals {
  args: string[];
  missingMandatoryOptionValue(option: Option): never;
  unknownOption(flag: string): never;
}

function knownFlags(command: Command | null): string[] {
  const out: string[] = [];
  for (let c = command; c; c = c.parent)
    for (const o of c.options) out.push(...[o.long, o.short].filter((f): f is string => Boolean(f)));
  return [...out, '--help', '-h'];
}

/** Patches `command` and every subcommand defined under it. */
export function suggestMisspelledOptions(command: Command): void {
  const internals = command as unknown as CommandInternals;
  const missing = internals.missingMandatoryOptionValue.bind(command);
  internals.missingMandatoryOptionValue = (option: Option) => {
    const known = knownFlags(command);
    const unknown = internals.args.find(
      (a) => a.startsWith('-') && a !== '-' && !known.includes(a.split('=')[0] ?? a),
    );
    if (unknown) internals.unknownOption(unknown);
    return missing(option);
  };
  for (const sub of command.commands) suggestMisspelledOptions(sub);
}
