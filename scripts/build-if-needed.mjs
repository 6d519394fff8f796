// Runs before `npm start`: build (compile and bundle) only when the bundle is missing or older
// than any source file.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { spawn } from 'node:child_process';

async function newestMtime(dir) {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const time = entry.isDirectory() ? await newestMtime(path) : (await stat(path)).mtimeMs;
    newest = Math.max(newest, time);
  }
  return newest;
}

async function builtMtime() {
  try {
    return (await stat('dist/bin/cli.js')).mtimeMs;
  } catch {
    return 0;
  }
}

const [source, built] = await Promise.all([newestMtime('src'), builtMtime()]);
if (built < source) {
  const code = await new Promise((resolve) => {
    spawn('npm', ['run', 'build'], { stdio: 'inherit' }).on('exit', resolve);
  });
  if (code !== 0) process.exit(typeof code === 'number' ? code : 1);
}
