// `npm run bench:deopts`: whether V8 keeps inferometer's optimized code from one stream to the
// next. Runs the CPU scenario's client (child.mjs cpu-per-chunk, openai 7: a full GC before each
// stream, as V8's memory reducer runs one when an app goes idle) under `node --trace-deopt`, for the
// bare SDK and inferometer (and, with --baseline-dist DIR, the baseline build), and counts the
// optimized functions V8 threw away because a full GC collected a hidden class they depend on
// ("embedded weak objects cleared"). Those the bare SDK's process does not lose are inferometer's
// (see src/fetch/kept-shapes.ts). Flags: --no-build (use ../dist as it is), --baseline-dist DIR.
import './lib/node-check.mjs'; // first: a clear message on a Node too old for what follows
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build, snapshot } from './lib/inferometer.mjs';
import { table } from './lib/markdown.mjs';
import { pinning, startServer } from './lib/processes.mjs';
import { ensureRepository } from './lib/setup.mjs';

const { values: opts } = parseArgs({ options: { 'no-build': { type: 'boolean', default: false }, 'baseline-dist': { type: 'string' } } });
ensureRepository();
if (!opts['no-build']) build();
snapshot();
if (opts['baseline-dist'] !== undefined) snapshot(opts['baseline-dist'], { baseline: true });
const VARIANTS = ['bare@7', 'inferometer@7', ...(opts['baseline-dist'] === undefined ? [] : ['inferometer-baseline@7'])];
const LOST = /<SharedFunctionInfo ?([^>]*)>\) \(opt id \d+\) for deoptimization, reason: embedded weak objects cleared/g;

/** Function name -> how many times its optimized code was thrown away for a collected hidden class. */
function lostCode(variant, port) {
  const args = ['--expose-gc', '--trace-deopt', 'child.mjs', 'cpu-per-chunk', variant, JSON.stringify({ port, chunks: 2000, streams: 5, warmup: 3 })];
  const [file, argv] = pinning.enabled ? ['taskset', ['-c', '1', process.execPath, ...args]] : [process.execPath, args];
  const run = spawnSync(file, argv, { cwd: fileURLToPath(new URL('.', import.meta.url)), encoding: 'utf8', maxBuffer: 1 << 30 });
  if (run.status !== 0) throw new Error(`${variant}: exit ${run.status ?? run.signal}\n${run.stderr.slice(-3000)}`);
  const lost = new Map();
  for (const [, name] of run.stdout.matchAll(LOST)) lost.set(name || '(anonymous)', (lost.get(name || '(anonymous)') ?? 0) + 1);
  return lost;
}

const server = await startServer();
const lost = {};
try {
  for (const v of VARIANTS) lost[v] = lostCode(v, server.port);
} finally {
  server.stop();
}
const total = (m) => [...m.values()].reduce((a, b) => a + b, 0);
const bare = lost['bare@7'];
const rows = VARIANTS.map((v) => {
  const extra = [...lost[v]].filter(([name, n]) => n > (bare.get(name) ?? 0)).map(([name, n]) => `${name} ${n - (bare.get(name) ?? 0)}`);
  return [v, String(total(lost[v])), v === 'bare@7' ? '(reference)' : extra.length === 0 ? 'none' : extra.join(', ')];
});
console.log(`Optimized functions thrown away because a full GC collected a hidden class they depend on, over the CPU scenario's streams of 2,000 chunks (paced: 3 warm-up and 5 measured, then flooded: 1 and 5; a full GC before each measured one):\n`);
console.log(table(['variant', 'functions thrown away', 'beyond the bare SDK\'s (name and times)'], rows));
