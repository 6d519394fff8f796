// Runs in `prepack`, after the build: records the git commit beside the compiled code, for
// `sidecar-injector version` in an installed package (which has no .git).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
} catch {
  // not a checkout: the version command says unknown
}
writeFileSync('dist/src/build-info.json', `${JSON.stringify({ commit })}\n`);
