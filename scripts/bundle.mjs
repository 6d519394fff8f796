// The shipped binary: dist/src (tsc's output) and every package it imports, bundled by esbuild
// into dist/bin/cli.js and its chunks. Loading one module graph of a few files instead of ~400
// separate modules halves the CPU until the server is ready (docs/performance.md, "Start-up").
// Dynamic imports stay separate chunks, so `serve` with certificate files still never loads the
// Kubernetes client, the certificate generator or the offline commands.
// Usage: node scripts/bundle.mjs [--dist DIR] (default dist/).
import { build } from 'esbuild';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const distIndex = process.argv.indexOf('--dist');
const dist = distIndex >= 0 ? process.argv[distIndex + 1] : 'dist';
if (!dist) throw new Error('--dist needs a directory');
const outdir = join(dist, 'bin');

await rm(outdir, { recursive: true, force: true });
const result = await build({
  entryPoints: [join(dist, 'src', 'cli.js')],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  // A --dist outside the checkout (the image test's scratch build) still bundles our packages.
  nodePaths: [join(import.meta.dirname, '..', 'node_modules')],
  // CommonJS packages in an ESM bundle call `require` for Node's built-ins.
  banner: {
    js: "import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);",
  },
  // The packages' own licence comments go to one file, below.
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});

// Every bundled package's name, version and licence text: their licences ask that the notice
// travel with the code, and the bundle is the code that travels.
const packages = new Map();
for (const input of Object.keys(result.metafile.inputs)) {
  const match = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
  if (!match) continue;
  const root = input.slice(0, match.index + match[0].length);
  packages.set(match[1], root);
}
const notices = [];
for (const [name, root] of [...packages].sort(([a], [b]) => a.localeCompare(b))) {
  const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
  let text = '';
  for (const file of [
    'LICENSE',
    'LICENSE.md',
    'LICENSE.txt',
    'license',
    'license.md',
    'LICENCE',
    'LICENSE-MIT',
  ]) {
    text = await readFile(join(root, file), 'utf8').catch(() => '');
    if (text) break;
  }
  const license = typeof manifest.license === 'string' ? manifest.license : 'see the package';
  notices.push(
    `${name}@${manifest.version} (${license})\n\n${text.trim() || '(no licence file in the package)'}\n`,
  );
}
await writeFile(
  join(outdir, 'THIRD-PARTY-NOTICES.txt'),
  `Packages bundled into this directory's JavaScript, with their licences.\n\n${notices.join('\n---\n\n')}`,
);
console.log(
  `bundle: ${Object.keys(result.metafile.outputs).length} files in ${outdir}, ${packages.size} packages`,
);
