/** Shell completion scripts, generated from the commands' flag tables. */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { completionTable, runCompletion } from '../../../src/cli/completion.js';
import { EXIT } from '../../../src/cli/io.js';
import { captureIO } from './capture-io.js';

async function script(shell: string): Promise<string> {
  const io = captureIO(process.cwd());
  expect(await runCompletion([shell], io)).toBe(EXIT.OK);
  return io.out();
}

/** What bash completes after `words` (the last one being completed). */
function bashComplete(text: string, words: string[]): string[] {
  const program = `${text}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}
_sidecar_injector; printf '%s\\n' "\${COMPREPLY[@]}"`;
  return execFileSync('bash', ['-c', program], { encoding: 'utf8', cwd: '/' })
    .split('\n')
    .filter((l) => l !== '')
    .sort();
}

describe('completion', () => {
  it('the table carries the flags the parsers know, istioctl aliases included', () => {
    const table = completionTable();
    expect(table.get('inject')).toEqual(
      expect.arrayContaining(['--filename', '--output', '--output-file', '--injectConfigFile']),
    );
    expect(table.get('check')).toContain('--namespace-labels');
    expect(table.get('serve')).toContain('--metrics-port');
    expect(table.get('serve')).not.toContain('--filename');
  });

  it('bash: commands, then each command flags', async () => {
    const text = await script('bash');
    expect(bashComplete(text, ['sidecar-injector', 'in'])).toEqual(['inject']);
    expect(bashComplete(text, ['sidecar-injector', 'inject', '--output'])).toEqual([
      '--output',
      '--output-file',
    ]);
    expect(bashComplete(text, ['sidecar-injector', 'serve', '--metrics'])).toEqual([
      '--metrics-port',
    ]);
    expect(bashComplete(text, ['sidecar-injector', 'completion', 'z'])).toEqual(['zsh']);
  });

  it('zsh and fish scripts name every command and flag', async () => {
    const zsh = await script('zsh');
    const fish = await script('fish');
    expect(zsh.startsWith('#compdef sidecar-injector\n')).toBe(true);
    for (const [command, words] of completionTable()) {
      expect(zsh).toContain(`${command}) compadd -- ${words.join(' ')}`);
      for (const word of words.filter((w) => w.startsWith('--'))) {
        expect(fish).toContain(
          `complete -c sidecar-injector -n '__fish_seen_subcommand_from ${command}' -l ${word.slice(2)}\n`,
        );
      }
    }
  });

  it.each([[[]], [['tcsh']], [['bash', 'zsh']]])('%j is a usage error', async (argv) => {
    const io = captureIO(process.cwd());
    expect(await runCompletion(argv, io)).toBe(EXIT.USAGE);
    expect(io.err()).toContain('INJ_ERR_CLI_USAGE: expected one shell, bash|zsh|fish');
    expect(io.out()).toBe('');
  });
});
