// Floors: what the guarantees alone cost, with none of inferometer's reading or recording. Each is
// a `fetch` handed to the openai client, the way inferometer's own fetch is, and each adds one
// layer to the one before:
//   fetch  - a wrapper around globalThis.fetch that returns the same Response (the cost of
//            being the client's fetch at all: one more async function per request);
//   tap    - the body handed to the app is a second ReadableStream that reads the original one
//            read per app read (high-water mark 0: backpressure as the bare body's) and takes
//            one timestamp per network read: the least that timestamps bytes at the network
//            boundary. No read-ahead (the app's reads pace it), no release on GC, no outcome;
//   decode - the tap, plus decoding each read as text and finding its event boundaries (the
//            least that sees each chunk, to time it), with one timestamp kept per event;
//   read   - what inferometer must do to record exactly what it records, in the least code (one
//            closure per stream, no classes, no layers): usage asked for on the app's behalf
//            (`stream_options.include_usage` added to the request); the body read ahead of the
//            app up to 64 KB (true arrival times for an app that reads late), a read in flight
//            at all times; each read's events found in its bytes, never decoded, each judged by
//            the chat hot path's rules (`[DONE]`; a `"usage":null` member, cut out in place;
//            the usage chunk, left out and its usage parsed; `"choices"`; a string
//            `finish_reason`); TTFT and every gap between outputs added to a bucket histogram;
//            an event cut between two reads held back until it ends. What it leaves out is what
//            is per request or for robustness: the record and its metrics, the release on GC,
//            faults, retries, CR line ends, non-ASCII cuts, other protocols.
// Nothing is recorded anywhere: these are lower bounds, not working instrumentation.

import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Per process, so the work cannot be optimised away (read by nobody). */
export const sink = { reads: 0, events: 0, lastAt: 0, outputs: 0, gaps: 0, usage: undefined, complete: false };

function tapped(response, onRead) {
  const source = response.body.getReader();
  const body = new ReadableStream(
    {
      pull(controller) {
        return source.read().then(({ done, value }) => {
          const at = performance.now();
          if (done) {
            controller.close();
            return;
          }
          onRead(value, at);
          controller.enqueue(value);
        });
      },
      cancel(reason) {
        return source.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}

const countRead = (value, at) => {
  sink.reads++;
  sink.lastAt = at;
};

function decoding() {
  const decoder = new TextDecoder();
  let rest = '';
  return (value, at) => {
    sink.reads++;
    const text = rest + decoder.decode(value, { stream: true });
    let from = 0;
    for (let end = text.indexOf('\n\n'); end !== -1; end = text.indexOf('\n\n', from)) {
      sink.events++;
      sink.lastAt = at;
      from = end + 2;
    }
    rest = from === 0 ? text : text.slice(from);
  };
}

const READ_AHEAD_BYTES = 64 * 1024;

/** As tapped(), but the source is read ahead of the app up to READ_AHEAD_BYTES; onRead returns the bytes to hand on (or null). */
function tappedAhead(response, onRead) {
  const source = response.body.getReader();
  let reading = false;
  let over = false;
  const read = (controller) => {
    reading = true;
    source.read().then(({ done, value }) => {
      reading = false;
      const at = performance.now();
      if (over) return;
      if (done) {
        over = true;
        controller.close();
        return;
      }
      const out = onRead(value, at);
      if (out !== null) controller.enqueue(out); // (may call pull(), which may read)
      if (!reading && -controller.desiredSize < READ_AHEAD_BYTES) read(controller);
    }, (error) => {
      if (!over) controller.error(error);
    });
  };
  const body = new ReadableStream(
    {
      start: read,
      pull(controller) {
        if (!reading) read(controller);
      },
      cancel(reason) {
        over = true;
        return source.cancel(reason);
      },
    },
    { highWaterMark: 0, size: (chunk) => chunk.byteLength },
  );
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}

const ascii = (text) => Uint8Array.from(text, (c) => c.charCodeAt(0));
const DONE = ascii('data: [DONE]\n\n');
const USAGE = ascii('"usage"');
const CHOICES = ascii('"choices"');
const FINISH = ascii('"finish_reason"');
const NULL = ascii('null');
const LF = 10;
const SPACE = 32;
const QUOTE = 34;
const COMMA = 44;
const COLON = 58;
const BOUNDS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92].map((s) => s * 1000);

function at(bytes, i, p) {
  if (i < 0 || i + p.length > bytes.length) return false;
  for (let k = 0; k < p.length; k++) if (bytes[i + k] !== p[k]) return false;
  return true;
}

/** Where `p` last starts in bytes[start, end), looked for by its byte at `anchor` (a rare one); -1 if nowhere. */
function lastIndex(bytes, p, anchor, start, end) {
  const x = p[anchor];
  for (let i = bytes.lastIndexOf(x, end - p.length + anchor); i - anchor >= start; i = i === 0 ? -1 : bytes.lastIndexOf(x, i - 1)) {
    if (at(bytes, i - anchor, p)) return i - anchor;
  }
  return -1;
}

/** Where the JSON value after the key ending at `i` starts (past `:` and spaces); -1 if none. */
function valueAfter(bytes, i, end) {
  while (i < end && bytes[i] === SPACE) i++;
  if (bytes[i] !== COLON) return -1;
  i++;
  while (i < end && bytes[i] === SPACE) i++;
  return i < end ? i : -1;
}

/** Node's memchr (see src/stream/bytes.ts): V8's Uint8Array indexOf compares a byte at a time. */
const memchr = Buffer.prototype.indexOf;

export function reading() {
  const counts = new Float64Array(BOUNDS.length + 1);
  let sum = 0;
  let firstAt = Number.NaN;
  let lastAt = 0;
  let carry = null;
  const cuts = [];
  return (value, now) => {
    sink.reads++;
    let bytes = value;
    if (carry !== null) {
      bytes = new Uint8Array(carry.length + value.length);
      bytes.set(carry);
      bytes.set(value, carry.length);
      carry = null;
    }
    const n = bytes.length;
    let ncuts = 0;
    let start = 0;
    for (;;) {
      let end = memchr.call(bytes, LF, start);
      while (end !== -1 && end + 1 < n && bytes[end + 1] !== LF) end = memchr.call(bytes, LF, end + 1);
      if (end === -1 || end + 1 >= n) break;
      end += 2;
      sink.events++;
      if (end - start === DONE.length && at(bytes, start, DONE)) sink.complete = true;
      else {
        let output = true;
        const u = lastIndex(bytes, USAGE, 4, start, end);
        if (u !== -1) {
          const v = valueAfter(bytes, u + USAGE.length, end);
          if (at(bytes, v, NULL)) {
            let c = u - 1;
            while (c > start && bytes[c] === SPACE) c--;
            cuts[ncuts++] = bytes[c] === COMMA ? c : u;
            cuts[ncuts++] = v + NULL.length;
          } else {
            // The usage chunk: its usage, once a stream; left out.
            sink.usage = JSON.parse(new TextDecoder().decode(bytes.subarray(start + 5, end))).usage;
            cuts[ncuts++] = start;
            cuts[ncuts++] = end;
            output = false;
          }
        }
        if (output && lastIndex(bytes, CHOICES, 2, start, end) !== -1) {
          const f = lastIndex(bytes, FINISH, 7, start, end);
          if (f === -1 || bytes[valueAfter(bytes, f + FINISH.length, end)] !== QUOTE) {
            if (Number.isNaN(firstAt)) firstAt = now;
            else {
              const gap = now - lastAt;
              let i = 0;
              while (i < BOUNDS.length && gap > BOUNDS[i]) i++;
              counts[i]++;
              sum += gap;
            }
            lastAt = now;
            sink.outputs++;
          }
        }
      }
      start = end;
    }
    if (start < n) carry = bytes.slice(start);
    sink.gaps = sum;
    sink.lastAt = firstAt;
    // What goes on: this read's whole events, without what was cut, compacted in place.
    if (ncuts === 0) return start === 0 ? null : start === n ? bytes : bytes.subarray(0, start);
    let to = cuts[0];
    for (let k = 1; k < ncuts; k += 2) {
      const from = cuts[k];
      const stop = k + 1 < ncuts ? cuts[k + 1] : start;
      bytes.copyWithin(to, from, stop);
      to += stop - from;
    }
    return to === 0 ? null : bytes.subarray(0, to);
  };
}

/** The request as the app made it, asking for usage (`read` floor; the bench's app never does). */
function askingForUsage(init) {
  const body = JSON.parse(init.body);
  return { ...init, body: JSON.stringify({ ...body, stream_options: { include_usage: true } }) };
}

/**
 * inferometer's own parts, bundled from ../src (they are internal: dist/ does not export them),
 * for the `parts` ladder between the `read` floor and inferometer whole.
 */
async function inferometerParts() {
  const dir = new URL('../.snapshot/parts/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const entry = fileURLToPath(new URL(`entry-${process.pid}.ts`, dir));
  const outfile = fileURLToPath(new URL(`parts-${process.pid}.mjs`, dir));
  const src = (file) => JSON.stringify(fileURLToPath(new URL(`../../src/${file}`, import.meta.url)));
  writeFileSync(
    entry,
    [
      `export { createSseReader } from ${src('stream/sse-reader.ts')};`,
      `export { RecordSink } from ${src('stream/record-sink.ts')};`,
      `export { RequestRecord } from ${src('record.ts')};`,
      `export { openaiChat } from ${src('protocols/openai/chat.ts')};`,
      `export { tapBody } from ${src('stream/body-tap.ts')};`,
      `export { keepStreamShapes } from ${src('fetch/kept-shapes.ts')};`,
    ].join('\n'),
  );
  // esbuild, as the repository's tsup brings it.
  const { buildSync } = createRequire(new URL('../../package.json', import.meta.url))('esbuild');
  buildSync({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', outfile, logLevel: 'warning', external: ['@opentelemetry/api', 'eventsource-parser'] });
  return import(pathToFileURL(outfile).href);
}

/**
 * inferometer's SSE reader of one chat stream (usage hidden unless `hide` is false) of a network
 * response, its record finished into nothing; `parts`: a bundle of ../src exporting
 * createSseReader, RecordSink, RequestRecord and openaiChat, and keepStreamShapes where it is
 * to keep one stream's objects as inferometer's fetch does (see also reader-cost.mjs).
 */
export function inferometerReader(parts, hide = true) {
  // As inferometer's fetch does for every stream: one stream's objects kept (src/fetch/kept-shapes.ts).
  parts.keepStreamShapes?.(parts.openaiChat);
  const record = new parts.RequestRecord({}, true, performance.now(), { requestFinished() {} });
  const sink = new parts.RecordSink(record, (code) => code);
  const reader = parts.createSseReader(record, parts.openaiChat.events(sink, hide), sink, { hideUsage: hide, cutMarker: hide ? '"usage"' : undefined, declaredEventStream: true, ownsChunks: true });
  return { record, reader };
}

/**
 * The floor's fetch (`fetch`, `tap`, `decode` or `read`), or a rung of the ladder from the `read`
 * floor to inferometer whole, each with one more of inferometer's own parts (from ../src, bundled
 * in this process): `parts-reader`, the `read` floor with inferometer's SSE reader (and chat
 * reader, sink and gap histogram) in place of its one closure; `parts-tap`, with inferometer's
 * tap too (`tapBody`: its read-ahead, release on GC and outcome). What inferometer adds to the
 * last is `instrument()`: the request described and recorded, its metrics at the end.
 */
export async function floorFetch(kind) {
  if (kind === 'fetch') return async (url, init) => fetch(url, init);
  if (kind === 'tap') return async (url, init) => tapped(await fetch(url, init), countRead);
  if (kind === 'decode') return async (url, init) => tapped(await fetch(url, init), decoding());
  if (kind === 'read') return async (url, init) => tappedAhead(await fetch(url, askingForUsage(init)), reading());
  if (kind === 'parts-reader' || kind === 'parts-tap') {
    const parts = await inferometerParts();
    if (kind === 'parts-reader') {
      return async (url, init) => {
        const { reader } = inferometerReader(parts);
        return tappedAhead(await fetch(url, askingForUsage(init)), (value, at) => reader.push(value, at));
      };
    }
    return async (url, init) => {
      const response = await fetch(url, askingForUsage(init));
      const { record, reader } = inferometerReader(parts);
      return parts.tapBody(response, reader, record, init.signal ?? undefined, () => false);
    };
  }
  throw new Error(`unknown floor ${kind}`);
}

