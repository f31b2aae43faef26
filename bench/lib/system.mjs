// What the results were measured on: written on top of the table.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import path from 'node:path';
import { installedVersion } from '../variants.mjs';
import { DEFAULT_DIST } from './inferometer.mjs';

function git(cwd, args) {
  try {
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

/**
 * The commit of the repository a dist/ was built in (`abc1234`, `+changes` when src/ differs from
 * it) and its description: `0.1.0 @ abc1234[ + uncommitted changes in src/][ (the dist in DIR)]`.
 */
function inferometerBuild(dist) {
  const repo = path.resolve(dist, '..');
  let version = 'unknown';
  try {
    version = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')).version;
  } catch {}
  const commit = git(repo, ['rev-parse', '--short', 'HEAD']);
  const dirty = git(repo, ['status', '--porcelain', '--', 'src']) !== '';
  const elsewhere = path.resolve(dist) !== path.resolve(DEFAULT_DIST) ? ` (the dist in ${path.resolve(dist)})` : '';
  return { commit: `${commit}${dirty ? '+changes' : ''}`, text: `${version}${commit ? ` @ ${commit}` : ''}${dirty ? ' + uncommitted changes in src/' : ''}${elsewhere}` };
}

/**
 * A warning when this Node's major version differs from the one RESULTS.md was measured on (its
 * header line `- Node vX.Y.Z, ...`): figures from different Node versions are not comparable.
 * Undefined when they match or RESULTS.md says nothing.
 */
export function nodeMismatch() {
  let text;
  try {
    text = readFileSync(new URL('../RESULTS.md', import.meta.url), 'utf8');
  } catch {
    return undefined;
  }
  const quoted = /^- Node (v(\d+)\.\d+\.\d+)/m.exec(text);
  if (quoted === null || Number(quoted[2]) === Number(process.versions.node.split('.')[0])) return undefined;
  return `warning: this run is on Node ${process.version}, RESULTS.md was measured on Node ${quoted[1]}: do not compare figures across the two; compare within this run.`;
}

/**
 * What the results were measured on; `dist` is the inferometer dist/ directory measured,
 * `baselineDist` the one the inferometer-baseline variant loads (if any).
 */
export function systemInfo(dist = DEFAULT_DIST, baselineDist = undefined) {
  const build = inferometerBuild(dist);
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    node: process.version,
    cpu: `${cpus()[0]?.model ?? 'unknown'} x ${cpus().length}`,
    memory: `${Math.round(totalmem() / 2 ** 30)} GiB`,
    os: `${process.platform} ${process.arch}`,
    openai: [installedVersion('openai', 7), installedVersion('openai', 6)],
    inferometer: build.text,
    commit: build.commit,
    baseline: baselineDist === undefined ? undefined : inferometerBuild(baselineDist),
    anthropic: installedVersion('@anthropic-ai/sdk'),
    peers: {
      '@opentelemetry/instrumentation-openai': installedVersion('@opentelemetry/instrumentation-openai'),
      '@traceloop/instrumentation-openai': installedVersion('@traceloop/instrumentation-openai'),
      '@arizeai/openinference-instrumentation-openai': installedVersion('@arizeai/openinference-instrumentation-openai'),
      openlit: installedVersion('openlit'),
      '@opentelemetry/sdk-metrics': installedVersion('@opentelemetry/sdk-metrics'),
      '@opentelemetry/sdk-trace': installedVersion('@opentelemetry/sdk-trace'),
    },
  };
}

/** CPU time stolen by the hypervisor while `fn` ran, as a share of all CPU time (from /proc/stat). */
export function stealMeter() {
  const read = () => {
    try {
      const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
      return { total: fields.slice(0, 8).reduce((a, b) => a + b, 0), steal: fields[7] ?? 0 };
    } catch {
      return undefined;
    }
  };
  const start = read();
  return () => {
    const end = read();
    if (start === undefined || end === undefined || end.total === start.total) return undefined;
    return (end.steal - start.steal) / (end.total - start.total);
  };
}

const TICK_MS = 10; // USER_HZ = 100 on Linux

function procStat(path) {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** CPU ms of a process (utime, stime, and the waited-for children's cutime, cstime) from /proc/<pid>/stat. */
export function processCpuMs(pid = 'self') {
  const text = procStat(`/proc/${pid}/stat`);
  if (text === undefined) return 0;
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * TICK_MS;
}

/**
 * How busy the machine was with work other than the benchmark's while it ran: all busy CPU time
 * (/proc/stat) minus the benchmark's own (this process, its finished children, the server), as a
 * share of the machine. Returns a stop(serverCpuMs) function.
 */
export function otherLoadMeter() {
  const busy = () => {
    const text = procStat('/proc/stat');
    if (text === undefined) return undefined;
    const f = text.split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3] + f[4];
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: (total - idle - f[7]) * TICK_MS, total: total * TICK_MS };
  };
  const start = busy();
  const own = processCpuMs();
  return (serverCpuMs) => {
    const end = busy();
    if (start === undefined || end === undefined) return undefined;
    const others = end.busy - start.busy - (processCpuMs() - own) - serverCpuMs;
    return Math.max(0, others) / (end.total - start.total);
  };
}
