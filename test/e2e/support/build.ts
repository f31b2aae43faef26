/**
 * Shared set-up of the end-to-end tests: the built package (examples import `inferometer` by
 * its name, which resolves to dist/), the repository's paths, and child processes that never
 * outlive a test.
 */
import { type ChildProcess, execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..', '..');

/** The environment of an example: no real provider, whatever the developer's shell has set. */
export const SIMULATED_ENV: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !['OPENAI_API_KEY', 'OPENAI_BASE_URL', 'INFEROMETER_DEMO_MODEL'].includes(name) && !name.startsWith('OTEL_')),
);

/** Builds dist/ with tsup when a file under src/ is newer than it. */
export function ensureBuilt(): void {
  const built = Math.min(
    ...['index.js', 'sdk.js'].map((f) => statSync(join(ROOT, 'dist', f), { throwIfNoEntry: false })?.mtimeMs ?? 0),
  );
  const sources = readdirSync(join(ROOT, 'src'), { recursive: true, encoding: 'utf8' });
  const newest = Math.max(...sources.map((f) => statSync(join(ROOT, 'src', f)).mtimeMs));
  if (built < newest) execFileSync(process.execPath, [join(ROOT, 'node_modules', 'tsup', 'dist', 'cli-default.js'), '--silent'], { cwd: ROOT });
}

/** Resolves with everything the child wrote to stdout once `pattern` appears in it; rejects if it exits first or `ms` pass. */
export function waitForOutput(child: ChildProcess, pattern: RegExp, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => done(new Error(`no ${pattern} within ${ms} ms; stdout:\n${out}\nstderr:\n${err}`)), ms);
    const onOut = (d: Buffer): void => {
      out += d.toString();
      if (pattern.test(out)) done();
    };
    const onErr = (d: Buffer): void => {
      err += d.toString();
    };
    const onExit = (code: number | null): void => done(new Error(`exited (code ${code}) before ${pattern}; stdout:\n${out}\nstderr:\n${err}`));
    const done = (error?: Error): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onOut);
      child.stderr?.off('data', onErr);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(out);
    };
    child.stdout?.on('data', onOut);
    child.stderr?.on('data', onErr);
    child.on('exit', onExit);
  });
}

/** Stops a child (SIGINT, then SIGKILL after `ms`) and resolves with its exit code. */
export async function stop(child: ChildProcess, ms = 5000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  const code = await exited;
  clearTimeout(timer);
  return code;
}
