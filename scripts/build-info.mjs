// Runs in `prepack`, after the build: records the git commit beside the compiled code, for
// `sidecar-injector version` in an installed package (which has no .git). The bundle's chunks in
// dist/bin/ read dist/build-info.json, tsc's modules in dist/src/cli/ read dist/src/build-info.json.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
} catch {
  // not a checkout: the version command says unknown
}
for (const file of ['dist/build-info.json', 'dist/src/build-info.json']) {
  writeFileSync(file, `${JSON.stringify({ commit })}\n`);
}
