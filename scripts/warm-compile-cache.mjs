// Fills Node's compile cache (NODE_COMPILE_CACHE) with every chunk of the bundle (dist/bin), so
// the image's first start reads V8's code cache instead of compiling
// (docs/performance.md, "Start-up"). Run at image build, as the user and with the paths the
// server runs with: the cache is keyed by file path and content.
import { readdirSync } from 'node:fs';
import { enableCompileCache, flushCompileCache } from 'node:module';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';

const status = enableCompileCache();
console.log(
  `compile cache: ${status.directory ?? '(none)'}${status.message ? ` (${status.message})` : ''}`,
);

const root = join(import.meta.dirname, '..', 'dist', 'bin');
const files = readdirSync(root, { encoding: 'utf8' })
  .filter((file) => file.endsWith('.js') && file !== 'cli.js')
  .sort();
for (const file of files) await import(pathToFileURL(join(root, file)).href);
flushCompileCache();
console.log(
  `compile cache: ${files.length} modules of ${relative(process.cwd(), root) || '.'} loaded`,
);
