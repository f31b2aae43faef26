// What the bench needs from the repository it sits in, so that `cd bench && npm install && npm run
// bench` works on a fresh clone. The bench builds ../dist with the repository's tsup and loads the
// built inferometer with its dependencies from ../node_modules (see inferometer.mjs); bench's own
// package.json does not depend on inferometer, so its lockfile does not change when the
// repository's package.json does.
//
// `node lib/setup.mjs` is bench's preinstall: it installs the repository (`npm ci`, from the
// repository's own lockfile, which npm ci never rewrites) when ../node_modules has no tsup.
// Plain JavaScript that any Node runs; run.mjs and profile.mjs call ensureRepository() again,
// for an install done with --ignore-scripts.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Installs the repository's dependencies (npm ci) unless ../node_modules already has tsup. */
export function ensureRepository() {
  if (existsSync(new URL('../../node_modules/tsup/package.json', import.meta.url))) return;
  console.error(`bench: the repository's dependencies are not installed; running npm ci in ${ROOT} (once) ...`);
  const npm = spawnSync('npm', ['ci', '--prefix', ROOT, '--no-audit', '--no-fund'], { stdio: 'inherit', cwd: ROOT });
  if (npm.error !== undefined || npm.status !== 0) {
    console.error(`bench: npm ci in ${ROOT} failed; run it there yourself, then run the bench again.`);
    process.exit(1);
  }
}

/**
 * Exits with a clear message on a Node.js older than the repository's tools need (22.18: type
 * stripping, current openai and tsup). `npm run bench*` runs on a supported Node already: its
 * scripts go through ../scripts/ensure-node.mjs, which fetches Node 24 once where needed.
 */
export function requireSupportedNode() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major > 22 || (major === 22 && minor >= 18)) return;
  console.error(`bench: Node.js ${process.version} is too old; it needs >= 22.18. Run it through npm (\`npm run bench\`, \`npm run bench:quick\`, ...), which uses ../scripts/ensure-node.mjs to fetch Node 24 where needed, or run \`node ../scripts/ensure-node.mjs bench/run.mjs [flags]\`.`);
  process.exit(1);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) ensureRepository();
