// `npm run bench:reader`: what inferometer's SSE reader (decode, split into events, the OpenAI chat
// reader, usage hiding, the record) costs per chunk in isolation, with warm caches and with cold
// ones. No network, no SDK: the paced bench stream (lib/sse-events.mjs, 8 events per network read
// as the paced scenario delivers them, or 64 as a flooded read holds, or reads of a fixed size cut
// anywhere, as a flooded stream's are) is pushed through the reader built from ../src, and through
// the `read` floor's one closure (lib/floors.mjs) for comparison: the same work in the least code. "Cold" touches 8 MB of other memory before each read, as the app, the SDK and
// the idle millisecond between two network reads of a paced stream do; "warm" does not. The
// difference is why a paced stream costs more per chunk than a flooded one: each network read runs
// on cold caches, and every byte and instruction the reader touches per read costs more.
import './lib/node-check.mjs';
import { createRequire } from 'node:module';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fixed, table } from './lib/markdown.mjs';
import { inferometerReader, reading } from './lib/floors.mjs';

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

/** CPU time (us) per chunk spent in the reader's push(), for one set-up, median of `rounds` streams. */
async function measure(make, { perRead, cutAt, cold, rounds }) {
  const { sseEvents } = await import('./lib/sse-events.mjs');
  const reads = readsOf(sseEvents(1, CHUNKS, true), { perRead, cutAt });
  const stream = () => {
    const reader = make();
    let us = 0;
    for (const r of reads) {
      if (cold) touchOther();
      const chunk = r.slice(); // a fresh buffer per read, as the network gives
      const t0 = process.cpuUsage();
      reader.push(chunk, performance.now());
      const t = process.cpuUsage(t0);
      us += t.user + t.system;
    }
    reader.end(performance.now());
    return us / CHUNKS;
  };
  for (let i = 0; i < 50; i++) stream(); // warm-up: optimised code
  const out = [];
  for (let i = 0; i < rounds; i++) out.push(stream());
  out.sort((a, b) => a - b);
  return out[Math.floor(out.length / 2)];
}

/** The cost of the two process.cpuUsage() calls around each read, to take off. */
function clockCost() {
  const n = 200_000;
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) process.cpuUsage(process.cpuUsage());
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / n;
}

const mod = await import(bundle());
const clock = clockCost();
const rows = [];
const EVENT_BYTES = 300; // about, in the bench stream with usage asked for: to take the clock off per read
for (const { perRead, cutAt } of [{ perRead: 8 }, { perRead: 64 }, { cutAt: 1500 }, { cutAt: 65_000 }]) {
  const eventsPerRead = perRead ?? cutAt / EVENT_BYTES;
  const label = perRead !== undefined ? `${perRead} events per read` : `${cutAt.toLocaleString('en')} bytes per read, cut anywhere (flooded)`;
  for (const [who, make] of [
    ['inferometer, usage hidden (all defaults)', () => inferometerReader(mod, true).reader],
    ['inferometer, usage not hidden (app asks, or injectStreamUsage: false)', () => inferometerReader(mod, false).reader],
    ['the `read` floor (lib/floors.mjs), usage hidden', floorReader],
  ]) {
    const warm = (await measure(make, { perRead, cutAt, cold: false, rounds: 31 })) - clock / eventsPerRead;
    const cold = (await measure(make, { perRead, cutAt, cold: true, rounds: 11 })) - clock / eventsPerRead;
    rows.push([label, who, fixed(warm, 3), fixed(cold, 3), `${fixed(cold / warm, 1)}x`, fixed((cold - warm) * eventsPerRead, 2)]);
  }
}
process.stdout.write(
  [
    `# The SSE reader alone, per chunk (Node ${process.version}; ${CHUNKS}-chunk paced bench stream; clock cost ${fixed(clock, 2)} us per read taken off)`,
    '',
    table(['network reads', 'reader', 'warm caches us/chunk', 'cold caches us/chunk', 'cold / warm', 'cold - warm, us per read'], rows),
    '',
    `(checksum ${sum > 0 ? 'ok' : 'n/a'})`,
    '',
  ].join('\n'),
);
