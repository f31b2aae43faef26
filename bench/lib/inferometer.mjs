// Which inferometer the bench measures: ../dist as built at the start of the run, copied to
// .snapshot/ so that a rebuild of ../dist during the run (tests, other work) cannot change or
// remove it under the running measurements. Its dependencies resolve from the repository's
// node_modules, as through the `file:..` link.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = new URL('../../', import.meta.url);
const SNAPSHOT = new URL('../.snapshot/', import.meta.url);

/** Builds ../dist with the repository's tsup. */
export function build() {
  execFileSync(process.execPath, ['node_modules/tsup/dist/cli-default.js', '--silent'], { cwd: ROOT, stdio: 'inherit' });
}

/** Copies ../dist to .snapshot/ and points every client process at it (BENCH_INFEROMETER). */
export function snapshot() {
  const dist = new URL('dist/', ROOT);
  if (!existsSync(new URL('index.js', dist))) throw new Error('../dist/index.js is missing: build inferometer first (npm run build in the repository root)');
  rmSync(SNAPSHOT, { recursive: true, force: true });
  mkdirSync(SNAPSHOT, { recursive: true });
  cpSync(dist, new URL('dist/', SNAPSHOT), { recursive: true });
  const pkg = JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8'));
  writeFileSync(new URL('package.json', SNAPSHOT), JSON.stringify({ name: pkg.name, version: pkg.version, type: pkg.type }));
  symlinkSync('../../node_modules', fileURLToPath(new URL('node_modules', SNAPSHOT)));
  process.env.BENCH_INFEROMETER = pathToFileURL(fileURLToPath(new URL('dist/index.js', SNAPSHOT))).href;
}

/** The inferometer module under test (the snapshot in a run, else the installed package). */
export function loadInferometer() {
  return import(process.env.BENCH_INFEROMETER ?? 'inferometer');
}
