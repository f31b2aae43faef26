// `npm run bench:reader`: what inferometer's SSE reader (decode, split into events, the OpenAI chat
// reader, usage hiding, the record) costs per chunk in isolation, with warm caches and with cold
// ones. No network, no SDK: the paced bench stream (lib/sse-events.mjs, 8 events per network read
// as the paced scenario delivers them, or 64 as a flooded read holds, or reads of a fixed size cut
// anywhere, as a flooded stream's are) is pushed through the reader built from ../src, and through
// the `read` floor's one closure (lib/floors.mjs) for comparison: the same work in the least code.
// "Cold" touches 8 MB of other memory before each read, as the app, the SDK and the idle
// millisecond between two network reads of a paced stream do; "warm" does not. The difference is
// why a paced stream costs more per chunk than a flooded one: each network read runs on cold
// caches, and every byte the reader touches per read costs more. That evicts data only; the third
// column also runs 600 functions of someone else's optimized code before each read, as the app's and the
// SDK's code between two reads evicts the reader's instructions and branch history (RESULTS.md
// section 7, fifth session: in the app the reader's own functions cost about twice what they cost
// on cold data alone).
import './lib/node-check.mjs';
import { createRequire } from 'node:module';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fixed, table } from './lib/markdown.mjs';
import { inferometerReader, reading } from './lib/floors.mjs';
import { sseEvents } from './lib/sse-events.mjs';
import { median } from './lib/stats.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = new URL('./.snapshot/reader-cost/', import.meta.url);

/** The reader under test, bundled from ../src (it is internal: dist/ does not export it). */
function bundle() {
  mkdirSync(OUT, { recursive: true });
  const entry = fileURLToPath(new URL('entry.ts', OUT));
  const source = `
export { createSseReader } from '${ROOT}src/stream/sse-reader.ts';
export { RecordSink } from '${ROOT}src/stream/record-sink.ts';
export { RequestRecord } from '${ROOT}src/record.ts';
export { openaiChat } from '${ROOT}src/protocols/openai/chat.ts';
`;
  writeFileSync(entry, source);
  const outfile = fileURLToPath(new URL('reader.mjs', OUT));
  // esbuild, as the repository's tsup brings it.
  const { buildSync } = createRequire(`${ROOT}package.json`)('esbuild');
  buildSync({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', outfile, logLevel: 'warning', external: ['@opentelemetry/api', 'eventsource-parser'] });
  return pathToFileURL(outfile).href;
}

const CHUNKS = 2000;
const other = new Float64Array(1 << 20); // 8 MB of someone else's memory
let sum = 0;
const touchOther = () => {
  for (let i = 0; i < other.length; i += 8) sum += other[i]++;
};

/**
 * Someone else's code: 600 distinct functions of branches and switches, each optimized by V8, one
 * call each before a read. Touching memory evicts the data
 * caches only; the app's and the SDK's code, run between two reads of a paced stream, also evicts
 * the reader's instructions and its branch history, which this does.
 */
const otherCode = [];
for (let k = 0; k < 600; k++) {
  const body = ['let acc = x | 0;'];
  for (let j = 0; j < 24; j++) {
    const c = (k * 131 + j * 17) % 997;
    body.push(`if ((acc & ${1 << j % 8}) !== 0) acc = (acc * ${c + 3} + ${j}) | 0; else acc = ((acc ^ ${c}) + ${k}) | 0;`);
    body.push(`switch ((acc >>> ${j % 13}) & 3) { case 0: acc += ${c}; break; case 1: acc -= ${j + k}; break; case 2: acc ^= ${c * 7}; break; default: acc = ~acc; }`);
  }
  body.push('return acc;');
  otherCode.push(new Function('x', body.join('\n')));
}
for (let r = 0; r < 3000; r++) for (let k = 0; k < otherCode.length; k++) sum += otherCode[k](r + k) & 1; // optimized
const runOtherCode = () => {
  for (let k = 0; k < otherCode.length; k++) sum += otherCode[k](k) & 1;
};

/** The network reads of the bench stream: `perRead` whole events each, or (`cutAt`) `cutAt` bytes each, cut anywhere. */
function readsOf(events, { perRead, cutAt }) {
  const reads = [];
  if (cutAt !== undefined) {
    const all = new Uint8Array(Buffer.concat(events));
    for (let i = 0; i < all.length; i += cutAt) reads.push(all.slice(i, i + cutAt));
  } else {
    for (let i = 0; i < events.length; i += perRead) reads.push(new Uint8Array(Buffer.concat(events.slice(i, i + perRead))));
  }
  return reads;
}

/** The `read` floor's one closure (lib/floors.mjs: usage hidden, the hot path's rules in bytes, every gap), for comparison. */
function floorReader() {
  const push = reading();
  return { push, end: () => null };
}

/**
 * One stream of `reads` through a new reader: the time (us) per chunk spent in its push(). Before
 * each read, `caches` 'warm' does nothing, 'data' touches 8 MB of other memory, 'code' also runs
 * someone else's code. Wall time
 * by performance.now() around each push: this loop neither waits nor yields, so it is the CPU time
 * but for preemption, which the median over rounds leaves out (process.cpuUsage() is a system call
 * that costs about 1.5 us on a kvm-clock VM, more than the push of a paced read).
 */
function stream(make, reads, caches) {
  const reader = make();
  let ms = 0;
  for (const r of reads) {
    if (caches !== 'warm') touchOther();
    if (caches === 'code') runOtherCode();
    const chunk = r.slice(); // a fresh buffer per read, as the network gives
    const t0 = performance.now();
    reader.push(chunk, t0);
    ms += performance.now() - t0;
  }
  reader.end(performance.now());
  return (ms * 1000) / CHUNKS;
}

/**
 * The readers' us per chunk on the same reads, the measuring window's own cost taken off: a reader
 * whose push does nothing runs in the same harness, so that the clock is calibrated by the loop it
 * is taken off. The readers take turns, one stream each per round, so that the machine's speed,
 * which drifts over seconds on a shared VM, is the same for all of them; median of `rounds`.
 */
function measure(makes, reads, { caches, rounds }) {
  const all = [() => ({ push: () => {}, end: () => null }), ...makes];
  for (const make of all) for (let i = 0; i < 50; i++) stream(make, reads, caches); // warm-up: optimised code
  const times = all.map(() => []);
  for (let round = 0; round < rounds; round++) all.forEach((make, i) => times[i].push(stream(make, reads, caches)));
  const [window, ...readers] = times.map(median);
  return { window, readers: readers.map((us) => us - window) };
}

const mod = await import(bundle());
const readers = [
  ['inferometer, usage hidden (all defaults)', () => inferometerReader(mod, true).reader],
  ['inferometer, usage not hidden (app asks, or injectStreamUsage: false)', () => inferometerReader(mod, false).reader],
  ['the `read` floor (lib/floors.mjs), usage hidden', floorReader],
];
const makes = readers.map(([, make]) => make);
const rows = [];
const windows = [];
for (const { perRead, cutAt } of [{ perRead: 8 }, { perRead: 64 }, { cutAt: 1500 }, { cutAt: 65_000 }]) {
  const reads = readsOf(sseEvents(1, CHUNKS, true), { perRead, cutAt });
  const eventsPerRead = CHUNKS / reads.length;
  const label = perRead !== undefined ? `${perRead} events per read` : `${cutAt.toLocaleString('en')} bytes per read, cut anywhere (flooded)`;
  const warm = measure(makes, reads, { caches: 'warm', rounds: 31 });
  const cold = measure(makes, reads, { caches: 'data', rounds: 11 });
  const code = measure(makes, reads, { caches: 'code', rounds: 11 });
  windows.push(`${fixed(warm.window * eventsPerRead, 2)} / ${fixed(cold.window * eventsPerRead, 2)} / ${fixed(code.window * eventsPerRead, 2)} us a read (${label.replace(/ per read.*/, '')})`);
  readers.forEach(([who], i) => {
    const w = warm.readers[i];
    const c = cold.readers[i];
    const k = code.readers[i];
    rows.push([label, who, fixed(w, 3), fixed(c, 3), fixed(k, 3), `${fixed(c / w, 1)}x`, fixed((c - w) * eventsPerRead, 2)]);
  });
}
process.stdout.write(
  [
    `# The SSE reader alone, per chunk (Node ${process.version}; ${CHUNKS}-chunk paced bench stream; the readers take turns; the measuring window's own cost taken off, warm / cold / cold and other code: ${windows.join(', ')})`,
    '',
    table(['network reads', 'reader', 'warm caches us/chunk', 'cold caches us/chunk', 'cold caches, other code run too, us/chunk', 'cold / warm', 'cold - warm, us per read'], rows),
    '',
    `(checksum ${sum > 0 ? 'ok' : 'n/a'})`,
    '',
  ].join('\n'),
);
