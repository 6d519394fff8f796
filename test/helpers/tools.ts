/**
 * Locates the command-line tools the chart and manifest tests drive: helm and kustomize built by
 * test/helm/build.sh into test/helm/bin/ (from the versions pinned in test/helm/go.mod), else the
 * same names on PATH; kustomize falls back to `kubectl kustomize`. Each lookup runs the tool once.
 */
import { execFile } from 'node:child_process';
import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const run = promisify(execFile);
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'test/helm/bin');

async function works(cmd: string, args: string[]): Promise<boolean> {
  return run(cmd, args, { timeout: 20_000 })
    .then(() => true)
    .catch(() => false);
}

async function built(name: string): Promise<string | undefined> {
  const path = join(BIN, name);
  return access(path)
    .then(() => path)
    .catch(() => undefined);
}

/** A command prefix that renders a kustomization directory given as the last argument. */
export interface Tool {
  cmd: string;
  args: string[];
  /** How the tool was found, for the skip/usage line. */
  source: string;
}

export async function findHelm(): Promise<Tool | undefined> {
  for (const cmd of [await built('helm'), 'helm']) {
    if (cmd !== undefined && (await works(cmd, ['version', '--short'])))
      return { cmd, args: [], source: cmd };
  }
  return undefined;
}

export async function findKustomize(): Promise<Tool | undefined> {
  for (const cmd of [await built('kustomize'), 'kustomize']) {
    if (cmd !== undefined && (await works(cmd, ['version'])))
      return { cmd, args: ['build'], source: cmd };
  }
  if (await works('kubectl', ['version', '--client']))
    return { cmd: 'kubectl', args: ['kustomize'], source: 'kubectl kustomize' };
  return undefined;
}

/** Runs a tool and returns stdout; stderr is attached to the error when it fails. */
export async function runTool(tool: Tool, args: string[], cwd = ROOT): Promise<string> {
  try {
    const { stdout } = await run(tool.cmd, [...tool.args, ...args], {
      cwd,
      maxBuffer: 32 << 20,
      timeout: 120_000,
    });
    return stdout;
  } catch (error) {
    const e = error as Error & { stderr?: string };
    throw new Error(`${tool.cmd} ${[...tool.args, ...args].join(' ')}: ${e.stderr ?? e.message}`, {
      cause: error,
    });
  }
}
