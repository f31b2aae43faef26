// `npm run bench:instructions`: the per-chunk cost counted instead of timed. Runs the CPU
// scenario's client (openai 7, a full GC before each stream) under valgrind's cachegrind, which
// counts every instruction the process executes and simulates its caches and branch predictors:
// the counts do not depend on the machine's load, its clock or its neighbours, where the CPU time
// of the same streams moves by a microsecond a chunk between runs. Each variant runs twice in
// fresh processes, with the same warm-up and then the same number of streams, of C1 chunks in one
// and of C2 in the other: the difference of the two processes' totals, divided by the chunks the
// second received more, is what one more chunk of a stream costs. The set-up, the warm-up and
// what is per request (the request itself, the forced GC before each stream, the record and its
// metrics at the end) cancel out; what the JIT still compiles while the streams run does not.
//
// Printed per chunk, and over the bare SDK's: instructions, and where they run (the JIT's code,
// V8's builtins, its compilers, the GC, other C++); level-1 instruction and data cache
// misses and last-level misses (simulated: 32 KB 8-way I1 and D1, 512 KB 8-way LL, as a core's
// own L1 and L2); conditional and indirect branches mispredicted. The streams are paced as in the
// CPU scenario (8 events, then a pause) but with a longer pause (--pause, default 40 ms), so that
// a process slowed down some 50 times by valgrind still reads about 8 events a read.
//
// Flags: --variants a,b (default: the parts ladder and OpenInference), --pacing paced|flooded,
// --chunks C1,C2 (default 2000,4000), --streams N (2), --pause MS (40), --warmup N (3 streams of
// C1: with 20, every variant's per-chunk code has reached V8's optimizing tier, as in a process
// that has served for a while), --warmup-pause MS (--pause), --no-build, --reuse (a variant
// whose files from an earlier run with the same flags are in the system's temporary directory is
// printed from them, not run again).
// Needs valgrind (apt-get install valgrind); about 3 minutes a variant (6 with --warmup 20).
import './lib/node-check.mjs'; // first: a clear message on a Node too old for what follows
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { scriptedURL } from './app.mjs';

/**
 * V8 as deterministic as it goes: one thread (the compilers' and the GC's work done on the main
 * thread, counted as before, but at the same points in every run), and a young generation that
 * holds a whole measured stream's garbage (a full GC before each stream empties it), so that no
 * scavenge runs inside one. A major GC can still fall in one process's measured streams and not
 * in the other's (V8 decides by its own clock and history): its instructions are shown apart, and
 * the ratio to bare leaves them out. What the GC costs a chunk is what it has to collect: the
 * allocation column of the CPU scenario.
 */
const NODE_FLAGS = ['--predictable', '--min-semi-space-size=64', '--max-semi-space-size=64'];

/**
 * Client side: `warmup` streams of `warmupChunks`, then `streams` streams of `chunks`, each after a
 * full GC; what the tool recorded is collected once, at the end.
 */
export async function child(v, { port, pacing, chunks, warmupChunks, pauseMs, warmupPauseMs, streams, warmup }) {
  const url = (n, pause = pauseMs) => (pacing === 'paced' ? scriptedURL(port, pacing, n, 0, pause) : scriptedURL(port, pacing, n));
  const warm = v.makeClient(url(warmupChunks, warmupPauseMs));
  for (let i = 0; i < warmup; i++) await v.consume(warm, { usage: v.usage });
  const client = v.makeClient(url(chunks));
  let received = 0;
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  for (let i = 0; i < streams; i++) {
    globalThis.gc();
    received += (await v.consume(client, { usage: v.usage })).chunks;
  }
  const c = process.cpuUsage(c0);
  // The share of the streams' wall time the process was busy: well below 1, it read each burst
  // of a paced stream before the next came (about 8 events a read, as in the CPU scenario).
  const busy = (c.user + c.system) / 1000 / (performance.now() - w0);
  let exported = 0;
  for (const m of await v.collect()) exported += m.dataPoints.length;
  exported += v.takeSpans().length;
  return { received, exported, busy };
}

/**
 * Where instructions run, by the function cachegrind names: V8 compiles JavaScript into code it
 * does not name (`???`); its builtins (bytecode handlers, inline caches, the builtins of
 * TypedArray, String, Promise, ...), its compilers and GC, and the C++ of Node and libc have
 * symbols.
 */
const CATEGORIES = [
  ['JavaScript (JIT code)', (fn) => fn === '???'],
  ['V8 builtins', (fn) => fn.startsWith('Builtins_')],
  // Maglev and TurboFan compiling (the work of V8's background threads, counted in the process's CPU time).
  ['JIT compiler', (fn) => /v8::internal::(compiler|maglev|baseline)::|turboshaft|v8::internal::Compiler::|OptimizedCompilationJob|TurbofanCompilationJob/.test(fn)],
  // The collectors and the write barrier's slow paths (marking while the app runs).
  ['GC', (fn) => /Scaveng|Marking|MarkCompact|Sweep|Evacuat|RememberedSet|MigratedSlot|WriteBarrier|RecordWrite|ConcurrentMark|v8::internal::Heap::|MemoryAllocator|PagedSpace|NewSpace|HeapObject::SizeFromMap/.test(fn)],
  ['C++ and libc', () => true],
];

/** Instructions by function name, from a cachegrind out file. */
function instructionsByFunction(file) {
  const out = new Map();
  let fn = '';
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('fn=')) fn = line.slice(3);
    else if (line.charCodeAt(0) >= 48 && line.charCodeAt(0) <= 57) {
      const space = line.indexOf(' ');
      out.set(fn, (out.get(fn) ?? 0) + Number(line.slice(space + 1, line.indexOf(' ', space + 1))));
    }
  }
  return out;
}

/** What one chunk more costs, key by key: the longer run's count less the shorter's, over the chunks it read more. */
function perChunkOf(shorter, longer, chunks) {
  const out = new Map();
  for (const k of new Set([...shorter.keys(), ...longer.keys()])) out.set(k, ((longer.get(k) ?? 0) - (shorter.get(k) ?? 0)) / chunks);
  return out;
}

/** The totals of a cachegrind out file, by event name (Ir, I1mr, D1mr, ...). */
function totals(file) {
  const text = readFileSync(file, 'utf8');
  const events = /^events: (.*)$/m.exec(text)[1].trim().split(/\s+/);
  const summary = /^summary: (.*)$/m.exec(text)[1].trim().split(/\s+/).map(Number);
  return Object.fromEntries(events.map((e, i) => [e, summary[i]]));
}

async function main() {
  const { values: opts } = parseArgs({
    options: {
      variants: { type: 'string', default: 'bare@7,floor-read@7,parts-reader@7,parts-tap@7,inferometer-sdk@7,openinference@7' },
      pacing: { type: 'string', default: 'paced' },
      streams: { type: 'string', default: '2' },
      chunks: { type: 'string', default: '2000,4000' },
      pause: { type: 'string', default: '40' },
      warmup: { type: 'string', default: '3' },
      'warmup-pause': { type: 'string' },
      'no-build': { type: 'boolean', default: false },
      reuse: { type: 'boolean', default: false },
      compare: { type: 'string', default: 'floor-read@7,parts-reader@7' },
    },
  });
  if (spawnSync('valgrind', ['--version']).status !== 0) {
    console.error('bench:instructions needs valgrind on the PATH (Debian: apt-get install valgrind).');
    process.exit(1);
  }
  const { runChild, startServer } = await import('./lib/processes.mjs');
  const { build, snapshot } = await import('./lib/inferometer.mjs');
  const { ensureRepository } = await import('./lib/setup.mjs');
  const { fixed, table } = await import('./lib/markdown.mjs');
  ensureRepository();
  if (!opts['no-build']) build();
  snapshot();
  const variants = opts.variants.split(',');
  if (variants[0] !== 'bare@7') variants.unshift('bare@7');
  const [c1, c2] = opts.chunks.split(',').map(Number);
  const args = { pacing: opts.pacing, warmupChunks: c1, pauseMs: Number(opts.pause), warmupPauseMs: Number(opts['warmup-pause'] ?? opts.pause), warmup: Number(opts.warmup), streams: Number(opts.streams) };
  const dir = join(tmpdir(), 'inferometer-cachegrind');
  mkdirSync(dir, { recursive: true });
  const cache = ['--I1=32768,8,64', '--D1=32768,8,64', '--LL=524288,8,64'];
  const server = await startServer();
  const perChunk = [];
  const started = Date.now();
  try {
    for (const [i, v] of variants.entries()) {
      const runs = [];
      for (const chunks of [c1, c2]) {
        const out = join(dir, `${v.replace('@', '-')}-${args.pacing === 'paced' ? '' : `${args.pacing}-`}w${args.warmup}-${chunks}.out`);
        const prefix = ['valgrind', '--tool=cachegrind', '--cache-sim=yes', '--branch-sim=yes', ...cache, `--cachegrind-out-file=${out}`];
        let result;
        if (opts.reuse && existsSync(`${out}.json`)) result = JSON.parse(readFileSync(`${out}.json`, 'utf8'));
        else {
          result = await runChild('instructions', v, { ...args, port: server.port, chunks }, { prefix, nodeFlags: NODE_FLAGS, timeoutMs: 3_600_000 });
          writeFileSync(`${out}.json`, JSON.stringify(result));
        }
        runs.push({ ...result, counts: totals(out), functions: instructionsByFunction(out) });
      }
      const chunks = runs[1].received - runs[0].received;
      const c = Object.fromEntries(perChunkOf(new Map(Object.entries(runs[0].counts)), new Map(Object.entries(runs[1].counts)), chunks));
      const functions = perChunkOf(runs[0].functions, runs[1].functions, chunks);
      const categories = Object.fromEntries(CATEGORIES.map(([name]) => [name, 0]));
      for (const [k, n] of functions) categories[CATEGORIES.find(([, test]) => test(k))[0]] += n;
      perChunk[i] = { ...c, functions, categories, exported: runs[1].exported, busy: runs[1].busy };
      process.stderr.write(`${v}: ${fixed(c.Ir, 0)} instructions a chunk, busy ${fixed(runs[1].busy * 100, 0)}% (${Math.round((Date.now() - started) / 1000)} s)\n`);
    }
  } finally {
    server.stop();
  }
  const bare = perChunk[0];
  const signed = (x, digits) => `${x >= 0 ? '+' : ''}${fixed(x, digits)}`;
  const cell = (i, f, digits) => `${fixed(f(perChunk[i]), digits)}${i === 0 ? '' : ` (${signed(f(perChunk[i]) - f(bare), digits)})`}`;
  const mutator = (c) => c.Ir - c.categories.GC;
  const rows = variants.map((v, i) => [
    v,
    cell(i, (c) => c.Ir, 0),
    cell(i, mutator, 0),
    i === 0 ? '1 (reference)' : `${(mutator(perChunk[i]) / mutator(bare)).toFixed(3)}x`,
    ...CATEGORIES.map(([name]) => cell(i, (c) => c.categories[name], 0)),
    cell(i, (c) => c.I1mr, 1),
    cell(i, (c) => c.D1mr + c.D1mw, 1),
    cell(i, (c) => c.ILmr + c.DLmr + c.DLmw, 1),
    cell(i, (c) => c.Bcm, 1),
    cell(i, (c) => c.Bim, 1),
    `${fixed(perChunk[i].busy * 100, 0)}%`,
    String(perChunk[i].exported),
  ]);
  const pacing = opts.pacing === 'paced' ? `paced (8 events, then ${opts.pause} ms)` : opts.pacing;
  console.log(`# Instructions and simulated cache and branch misses per chunk (cachegrind; Node ${process.version}; openai 7; ${pacing}; ${opts.streams} streams of ${c2} chunks against ${c1}, after ${args.warmup} of ${c1}; ${new Date().toISOString()})\n`);
  console.log(
    table(
      ['variant', 'instructions/chunk (over bare)', 'of which not the GC\'s', 'ratio to bare (not the GC\'s)', ...CATEGORIES.map(([name]) => name), 'I1 misses', 'D1 misses', 'LL misses', 'cond. branches mispredicted', 'indirect mispredicted', 'busy', 'exported (sanity)'],
      rows,
    ),
  );
  // Where one rung's instructions go, function by function (the native ones by name; JIT code is one row).
  const [a, b] = opts.compare.split(',').map((v) => variants.indexOf(v));
  if (a !== -1 && b !== -1) {
    const fa = perChunk[a].functions;
    const fb = perChunk[b].functions;
    const diff = [...new Set([...fa.keys(), ...fb.keys()])].map((k) => [k, fa.get(k) ?? 0, fb.get(k) ?? 0]).filter(([, x, y]) => Math.abs(y - x) >= 20);
    diff.sort((x, y) => y[2] - y[1] - (x[2] - x[1]));
    console.log(`\n${variants[b]} over ${variants[a]}, instructions a chunk by function (|difference| >= 20):\n`);
    console.log(table(['function', variants[a], variants[b], 'difference'], diff.slice(0, 25).map(([k, x, y]) => [k.length > 90 ? `${k.slice(0, 90)}...` : k, fixed(x, 0), fixed(y, 0), signed(y - x, 0)])));
  }
}

if (process.argv[1] === new URL(import.meta.url).pathname) await main();
