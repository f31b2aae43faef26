// Starting the server and the client processes, each pinned to its own core where the machine
// allows it (taskset and at least 2 CPUs): the server on CPU 0, every client on CPU 1.
import { spawn, spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

const BENCH = fileURLToPath(new URL('..', import.meta.url));

/** Whether processes can be pinned, and why not if they cannot. */
export const pinning = (() => {
  if (availableParallelism() < 2) return { enabled: false, why: 'only one CPU' };
  const probe = spawnSync('taskset', ['-c', '1', 'true']);
  if (probe.error !== undefined || probe.status !== 0) return { enabled: false, why: 'taskset is not available or not permitted' };
  return { enabled: true, why: 'server on CPU 0, each client process on CPU 1 (taskset)' };
})();

function command(cpu, args, prefix = []) {
  const [file, ...rest] = [...prefix, process.execPath, ...args];
  return pinning.enabled ? ['taskset', ['-c', String(cpu), file, ...rest]] : [file, rest];
}

/** Starts server.mjs; resolves with its port and a stop(). */
export function startServer() {
  const [file, args] = command(0, ['server.mjs']);
  const child = spawn(file, args, { cwd: BENCH, stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`server exited early (${code})`)));
    child.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n')[0];
      if (out.includes('\n')) {
        const { port } = JSON.parse(line);
        child.removeAllListeners('exit');
        resolve({ port, pid: child.pid, stop: () => child.stdin.end() });
      }
    });
  });
}

/**
 * Runs one measurement in a fresh client process: `node --expose-gc child.mjs <scenario> <variant>`
 * with `args` as JSON, under `prefix` if given (a command that runs node: valgrind and its flags).
 * Resolves with what the child reported; rejects with its stderr if it failed.
 */
export function runChild(scenario, variant, args, { nodeFlags = [], timeoutMs = 300_000, prefix = [] } = {}) {
  const [file, argv] = command(1, ['--expose-gc', ...nodeFlags, 'child.mjs', scenario, variant, JSON.stringify(args)], prefix);
  const child = spawn(file, argv, { cwd: BENCH, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve, reject) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('@@result '));
      if (code === 0 && line !== undefined) resolve(JSON.parse(line.slice('@@result '.length)));
      else reject(new Error(`${scenario} ${variant}: exit ${code ?? signal}\n${err.slice(-3000)}${out.slice(-1000)}`));
    });
  });
}
