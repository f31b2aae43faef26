// `npm run bench:byte-search`: what finding the chat hot path's three words in one event costs,
// in text and in bytes, with warm caches (ns per event, 8 events per network read as the paced
// bench stream delivers them). Text: the read decoded, split into blocks, three string searches
// per block. Bytes: the read checked for CR, the same blocks found and searched in the Uint8Array with
// ../src/stream/bytes.ts, each search (from the end, as the chat reader's) looking first for the `"`
// that starts its word, or for a byte of the word that is rare in the JSON (what the chat reader does). Why the second: every
// candidate costs a native indexOf call, and a quote starts every key and string. Last, as the SSE
// reader does now: the read checked for CR, and each event's end found, with Node's memchr
// (`indexOfByte`), where V8's Uint8Array indexOf compares a byte at a time.
import './lib/node-check.mjs';
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sseEvents } from './lib/sse-events.mjs';
import { fixed, table } from './lib/markdown.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = new URL('./.snapshot/byte-search/', import.meta.url);
mkdirSync(OUT, { recursive: true });
const outfile = fileURLToPath(new URL('bytes.mjs', OUT));
createRequire(`${ROOT}package.json`)('esbuild').buildSync({ entryPoints: [`${ROOT}src/stream/bytes.ts`], bundle: true, platform: 'node', format: 'esm', outfile, logLevel: 'warning' });
const { bytePattern, byteSearch, indexOfByte, lastIndexOfBytes } = await import(pathToFileURL(outfile).href);
if (byteSearch !== 'memchr') throw new Error('no Node memchr here');

const read = new Uint8Array(Buffer.concat(sseEvents(1, 9, true).slice(1, 9))); // 8 content events
const WORDS = ['"usage"', '"choices"', '"finish_reason"'];
const onQuote = WORDS.map((w) => bytePattern(w, 0));
const onRare = [bytePattern(WORDS[0], 4), bytePattern(WORDS[1], 2), bytePattern(WORDS[2], 7)];
const decoder = new TextDecoder();

function inText(bytes) {
  const text = decoder.decode(bytes);
  let found = 0;
  for (let start = 0; start < text.length; ) {
    const end = text.indexOf('\n\n', start) + 2;
    const block = text.slice(start, end);
    found += block.lastIndexOf(WORDS[0]) + block.lastIndexOf(WORDS[1]) + block.lastIndexOf(WORDS[2]);
    start = end;
  }
  return found;
}

function inBytes(bytes, [usage, choices, finish], memchr = false) {
  let found = 0;
  if (memchr && indexOfByte(bytes, 13, 0) !== -1) return -1;
  if (!memchr && bytes.indexOf(13) !== -1) return -1;
  for (let start = 0; start < bytes.length; ) {
    let end = memchr ? indexOfByte(bytes, 10, start) : bytes.indexOf(10, start);
    while (bytes[end + 1] !== 10) end = memchr ? indexOfByte(bytes, 10, end + 1) : bytes.indexOf(10, end + 1);
    end += 2;
    found += lastIndexOfBytes(bytes, usage, start, end) + lastIndexOfBytes(bytes, choices, start, end) + lastIndexOfBytes(bytes, finish, start, end);
    start = end;
  }
  return found;
}

const ways = [
  ['text: decode, split, three string searches', () => inText(read)],
  ['bytes: each word looked for by its quote', () => inBytes(read, onQuote)],
  ['bytes: each word looked for by a rare byte (the chat reader)', () => inBytes(read, onRare)],
  ['the same, the CR check and the event ends by memchr (the SSE reader)', () => inBytes(read, onRare, true)],
];
const N = 400_000;
const results = ways.map(() => []);
let check = 0;
for (let round = 0; round < 5; round++) {
  ways.forEach(([, fn], i) => {
    for (let k = 0; k < N / 4; k++) check += fn(); // warm
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < N; k++) check += fn();
    results[i].push(Number(process.hrtime.bigint() - t0) / N / 8);
  });
}
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
process.stdout.write(
  [
    `# Finding the chat hot path's words in one event (Node ${process.version}; warm caches; median of 5 rounds of ${N.toLocaleString('en')} reads of 8 events)`,
    '',
    table(['how', 'ns per event'], ways.map(([name], i) => [name, fixed(median(results[i]), 0)])),
    '',
    `(checksum ${check % 97})`,
    '',
  ].join('\n'),
);
