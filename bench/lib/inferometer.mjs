// Which inferometer the bench measures: a built dist/ (../dist, built at the start of the run, or
// another one named with --dist DIR / BENCH_DIST=DIR, e.g. a worktree of an older commit), copied
// to .snapshot/ so that a rebuild of that dist during the run (tests, other work) cannot change or
// remove it under the running measurements. Its dependencies resolve from the repository's
// node_modules (bench/ does not depend on inferometer itself; see setup.mjs).
//
// Optionally a second, baseline dist (--baseline-dist DIR / BENCH_DIST_BASELINE=DIR), copied to
// .snapshot/baseline/ and loaded by the `inferometer-baseline` variant, so that two builds run side
// by side in the same rounds of one run.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = new URL('../../', import.meta.url);
const SNAPSHOT = new URL('../.snapshot/', import.meta.url);

/** The repository's own dist/. */
export const DEFAULT_DIST = fileURLToPath(new URL('dist/', ROOT));

/** Builds ../dist with the repository's tsup (or the dist/ of another checkout, `cwd`, e.g. a worktree). */
export function build(cwd = fileURLToPath(ROOT)) {
  execFileSync(process.execPath, [fileURLToPath(new URL('node_modules/tsup/dist/cli-default.js', ROOT)), '--silent'], { cwd, stdio: 'inherit' });
}

/**
 * Copies `dist` (a built inferometer dist/ directory, ../dist by default) to .snapshot/ and points
 * every client process at it (BENCH_INFEROMETER). Returns the absolute path of `dist`.
 * With `{ baseline: true }`, copies it to .snapshot/baseline/ instead (BENCH_INFEROMETER_BASELINE),
 * for the `inferometer-baseline` variant; call it after the main snapshot, which clears .snapshot/.
 */
export function snapshot(dist = DEFAULT_DIST, { baseline = false } = {}) {
  const from = path.resolve(dist);
  if (!existsSync(path.join(from, 'index.js'))) {
    throw new Error(`${path.join(from, 'index.js')} is missing: build inferometer first (npm run build in ${path.dirname(from)})${baseline ? ' (--baseline-dist)' : ', or leave out --no-build'}`);
  }
  const target = baseline ? new URL('baseline/', SNAPSHOT) : SNAPSHOT;
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  cpSync(from, fileURLToPath(new URL('dist/', target)), { recursive: true });
  const pkgFile = path.join(from, '..', 'package.json');
  const pkg = existsSync(pkgFile) ? JSON.parse(readFileSync(pkgFile, 'utf8')) : { name: 'inferometer', version: 'unknown', type: 'module' };
  writeFileSync(new URL('package.json', target), JSON.stringify({ name: pkg.name, version: pkg.version, type: pkg.type }));
  symlinkSync(baseline ? '../../../node_modules' : '../../node_modules', fileURLToPath(new URL('node_modules', target)));
  process.env[baseline ? 'BENCH_INFEROMETER_BASELINE' : 'BENCH_INFEROMETER'] = pathToFileURL(fileURLToPath(new URL('dist/index.js', target))).href;
  return from;
}

/**
 * The inferometer module under test: the snapshot that run.mjs (or profile.mjs) made; `baseline`:
 * the baseline's; `entry: 'sdk'`: its `inferometer/sdk` entry point instead of the main one.
 */
export function loadInferometer({ baseline = false, entry = 'index' } = {}) {
  const name = baseline ? 'BENCH_INFEROMETER_BASELINE' : 'BENCH_INFEROMETER';
  if (process.env[name] === undefined) {
    throw new Error(baseline
      ? 'BENCH_INFEROMETER_BASELINE is not set: give run.mjs --baseline-dist DIR (or BENCH_DIST_BASELINE=DIR), which snapshots that dist for the inferometer-baseline variant'
      : 'BENCH_INFEROMETER is not set: run the bench through run.mjs (npm run bench*), which builds and snapshots inferometer');
  }
  return import(entry === 'index' ? process.env[name] : process.env[name].replace(/index\.js$/, `${entry}.js`));
}
