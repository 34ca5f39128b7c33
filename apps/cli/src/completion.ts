/**
 * Shell completion scripts for bash, zsh and fish, generated from the command tree itself (every
 * command, subcommand and long option, with summaries where the shell shows them), so they never go
 * stale. Words after a command complete its subcommands and options; anything else falls back to
 * file names (sources, output folders).
 */
import type { Command } from 'commander';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

interface Node {
  path: string[];
  summary: string;
  subcommands: Node[];
  options: Array<{ flag: string; description: string; takesValue: boolean }>;
}

function tree(command: Command, path: string[] = []): Node {
  return {
    path,
    summary: command.summary() || command.description(),
    subcommands: command.commands.map((c) => tree(c, [...path, c.name()])),
    options: [
      ...command.options
        .filter((o) => o.long)
        .map((o) => ({
          flag: o.long ?? '',
          description: o.description,
          takesValue: o.required || o.optional,
        })),
      { flag: '--help', description: 'show help', takesValue: false },
    ],
  };
}

function all(node: Node): Node[] {
  return [node, ...node.subcommands.flatMap(all)];
}

const single = (text: string) => `'${text.replaceAll("'", "'\\''")}'`;

function bash(root: Node): string {
  const cases = all(root)
    .map((n) => {
      const words = [...n.subcommands.map((s) => s.path.at(-1) ?? ''), ...n.options.map((o) => o.flag)];
      return `    ${single(n.path.join(' '))}) words=${single(words.join(' '))} ;;`;
    })
    .join('\n');
  return `# rfbatch completion for bash: source it, or put it in ~/.local/share/bash-completion/completions/rfbatch
_rfbatch() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" words="" i w
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ $w == -* ]] && continue
    case "\${path:+$path }$w" in
${all(root)
  .filter((n) => n.path.length > 0)
  .map((n) => `      ${single(n.path.join(' '))}) path="\${path:+$path }$w" ;;`)
  .join('\n')}
    esac
  done
  case "$path" in
${cases}
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -o bashdefault -F _rfbatch rfbatch
`;
}

function zsh(root: Node): string {
  const cases = all(root)
    .map((n) => {
      const entries = [
        ...n.subcommands.map((s) => `${s.path.at(-1)}:${s.summary.replaceAll(':', '\\:')}`),
        ...n.options.map((o) => `${o.flag}:${o.description.replaceAll(':', '\\:')}`),
      ];
      return `    ${single(n.path.join(' '))}) entries=(${entries.map(single).join(' ')}) ;;`;
    })
    .join('\n');
  return `#compdef rfbatch
# rfbatch completion for zsh: put it in a folder of $fpath as _rfbatch (or source it after compinit)
_rfbatch() {
  local path_="" w
  local -a entries
  for w in \${words[2,CURRENT-1]}; do
    [[ $w == -* ]] && continue
    case "\${path_:+$path_ }$w" in
${all(root)
  .filter((n) => n.path.length > 0)
  .map((n) => `      ${single(n.path.join(' '))}) path_="\${path_:+$path_ }$w" ;;`)
  .join('\n')}
    esac
  done
  case "$path_" in
${cases}
  esac
  _describe -t commands rfbatch entries
  _files
}
compdef _rfbatch rfbatch
`;
}

function fish(root: Node): string {
  const lines = [
    '# rfbatch completion for fish: put it in ~/.config/fish/completions/rfbatch.fish',
    'complete -c rfbatch -f',
  ];
  for (const n of all(root)) {
    // The words typed so far are exactly this node's path (fish's own helpers see each word).
    const here = n.path.length === 0 ? '__fish_use_subcommand' : `__rfbatch_path ${n.path.join(' ')}`;
    for (const s of n.subcommands)
      lines.push(
        `complete -c rfbatch -n ${single(here)} -a ${single(s.path.at(-1) ?? '')} -d ${single(s.summary)}`,
      );
    for (const o of n.options)
      lines.push(
        `complete -c rfbatch -n ${single(here)} -l ${o.flag.slice(2)}${o.takesValue ? ' -r -F' : ''} -d ${single(o.description)}`,
      );
  }
  return `${lines[0]}
function __rfbatch_path --description 'true when the subcommands typed so far are exactly the arguments'
    set -l typed (commandline -opc)
    set -e typed[1]
    set -l words
    for w in $typed
        string match -q -- '-*' $w; and continue
        set -a words $w
    end
    test "$words" = "$argv"
end
${lines.slice(1).join('\n')}
`;
}

/** The completion script of `shell` for the program `root` (every command defined in full). */
export function completionScript(shell: Shell, root: Command): string {
  const node = tree(root);
  return shell === 'bash' ? bash(node) : shell === 'zsh' ? zsh(node) : fish(node);
}
