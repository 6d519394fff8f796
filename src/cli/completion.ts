/**
 * `sidecar-injector completion bash|zsh|fish`: a completion script generated from the commands'
 * own flag tables, so it never lists a flag the parser does not know.
 */
import { CHECK_FLAGS } from './check.js';
import type { FlagSpec } from './flags.js';
import { usageError } from './flags.js';
import { INJECT_FLAGS } from './inject.js';
import { EXIT, type CliCommand } from './io.js';
import { CONFIG_FLAGS, FILENAME_FLAG, runGuarded } from './offline-command.js';
import { SERVE_FLAGS } from './serve.js';
import { TAG_FLAGS, TAG_SUBCOMMANDS } from './tag.js';

const SHELLS = ['bash', 'zsh', 'fish'] as const;

/** Every command with its long flags (aliases included) and one-letter flags. */
export function completionTable(): Map<string, string[]> {
  const names = (specs: readonly FlagSpec[]) =>
    ['help', ...specs.flatMap((s) => [s.name, ...(s.aliases ?? [])])].map((n) => `--${n}`);
  const offline = (own: readonly FlagSpec[]) => names([FILENAME_FLAG, ...own, ...CONFIG_FLAGS]);
  return new Map([
    ['serve', names(SERVE_FLAGS)],
    ['inject', offline(INJECT_FLAGS)],
    ['check', offline(CHECK_FLAGS)],
    ['tag', [...TAG_SUBCOMMANDS, ...names(TAG_FLAGS)]],
    ['version', []],
    ['completion', [...SHELLS]],
  ]);
}

function bash(table: Map<string, string[]>): string {
  const cases = [...table]
    .map(([command, words]) => `    ${command}) words="${words.join(' ')}" ;;`)
    .join('\n');
  return `# bash completion for sidecar-injector: source <(sidecar-injector completion bash)
_sidecar_injector() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" words
  if [ "$COMP_CWORD" -eq 1 ]; then
    words="${[...table.keys()].join(' ')} --help --version"
  else
    case "\${COMP_WORDS[1]}" in
${cases}
    *) words="" ;;
    esac
  fi
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
  [ \${#COMPREPLY[@]} -eq 0 ] && COMPREPLY=($(compgen -f -- "$cur"))
  return 0
}
complete -F _sidecar_injector sidecar-injector
`;
}

function zsh(table: Map<string, string[]>): string {
  const cases = [...table]
    .map(([command, words]) => `    ${command}) compadd -- ${words.join(' ')} ;;`)
    .join('\n');
  return `#compdef sidecar-injector
# zsh completion for sidecar-injector: source <(sidecar-injector completion zsh)
_sidecar_injector() {
  if (( CURRENT == 2 )); then
    compadd -- ${[...table.keys()].join(' ')} --help --version
    return
  fi
  case "\${words[2]}" in
${cases}
  esac
  _files
}
compdef _sidecar_injector sidecar-injector
`;
}

function fish(table: Map<string, string[]>): string {
  const lines = [
    '# fish completion for sidecar-injector: sidecar-injector completion fish | source',
    'complete -c sidecar-injector -f',
    `complete -c sidecar-injector -n __fish_use_subcommand -a '${[...table.keys()].join(' ')}'`,
  ];
  for (const [command, words] of table) {
    for (const word of words) {
      const arg = word.startsWith('--') ? `-l ${word.slice(2)}` : `-a ${word}`;
      lines.push(`complete -c sidecar-injector -n '__fish_seen_subcommand_from ${command}' ${arg}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export const runCompletion: CliCommand = (argv, io) =>
  runGuarded(io, () => {
    const [shell, ...rest] = argv;
    if (shell === undefined || rest.length > 0 || !(SHELLS as readonly string[]).includes(shell)) {
      throw usageError([`expected one shell, ${SHELLS.join('|')}, got "${argv.join(' ')}"`]);
    }
    const table = completionTable();
    io.stdout(shell === 'bash' ? bash(table) : shell === 'zsh' ? zsh(table) : fish(table));
    return Promise.resolve(EXIT.OK);
  });
