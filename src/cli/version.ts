/**
 * `sidecar-injector version`: the package version, the Istio release whose behaviour (defaults,
 * templates) the injector follows, the templates it renders, and the git commit it was built from.
 * `--version` stays one short line.
 */
import { readFile } from 'node:fs/promises';
import { DEFAULT_TAG } from '../core/config/defaults.js';
import { BUILTIN_RENDERERS } from '../core/render/index.js';

export interface VersionInfo {
  version: string;
  istio: string;
  templates: string[];
  commit: string;
}

/** Reads a small file, or undefined. Only the `version` command calls this (never a request). */
async function text(url: URL): Promise<string | undefined> {
  try {
    return (await readFile(url, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

/**
 * The commit: `build-info.json` written beside the compiled code by `npm pack`
 * (scripts/build-info.mjs), else the checkout's `.git` (a directory, or a worktree's `gitdir:` file).
 */
async function commitOf(root: URL): Promise<string> {
  // Beside the compiled code: dist/src/build-info.json.
  const info = await text(new URL('../build-info.json', import.meta.url));
  if (info !== undefined) {
    const commit = (JSON.parse(info) as { commit?: unknown }).commit;
    if (typeof commit === 'string' && commit !== '') return commit;
  }
  for (const up of ['./', '../']) {
    let gitDir = new URL(`${up}.git/`, root);
    const pointer = await text(new URL(`${up}.git`, root));
    if (pointer?.startsWith('gitdir: ') === true) {
      gitDir = new URL(`file://${pointer.slice('gitdir: '.length).replace(/\/?$/, '/')}`);
    }
    const head = await text(new URL('HEAD', gitDir));
    if (head === undefined) continue;
    if (!head.startsWith('ref: ')) return head;
    const ref = head.slice('ref: '.length);
    const common = await text(new URL('commondir', gitDir));
    const commonDir =
      common === undefined ? gitDir : new URL(`${common.replace(/\/?$/, '/')}`, gitDir);
    for (const dir of [gitDir, commonDir]) {
      const loose = await text(new URL(ref, dir));
      if (loose !== undefined) return loose;
      const packed = await text(new URL('packed-refs', dir));
      const line = packed?.split('\n').find((l) => l.endsWith(` ${ref}`));
      if (line !== undefined) return line.split(' ')[0] ?? 'unknown';
    }
  }
  return 'unknown';
}

/** `root`: the directory holding package.json (a checkout, or the installed package). */
export async function versionInfo(root: URL, version: string): Promise<VersionInfo> {
  return {
    version,
    istio: DEFAULT_TAG,
    templates: Object.keys(BUILTIN_RENDERERS),
    commit: await commitOf(root),
  };
}

export function formatVersion(info: VersionInfo): string {
  return [
    `sidecar-injector ${info.version}`,
    `istio behaviour: ${info.istio} (defaults and templates of this Istio release)`,
    `templates: ${info.templates.join(', ')}`,
    `git commit: ${info.commit}`,
    '',
  ].join('\n');
}
