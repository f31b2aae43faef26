// The loopback OpenAI-compatible (and Anthropic Messages) SSE server of the benchmark, run in its own process (pinned to
// its own core by run.mjs). Every SSE event is written with its own `res.write()`.
//
// A stream is scripted by the path before `/v1`, so that the SDK call is the same for every
// variant: `/s/<mode>/<chunks>[/<ttftMs>/<gapMs>]/v1/chat/completions`, where mode is
//   paced    a 1 ms pause after every 8 events (the client reads ~8 events per network read);
//            `/s/paced/<chunks>/0/<pauseMs>` pauses that long instead (a client slowed down, as
//            under valgrind, still reads ~8 events a read)
//   flooded  as fast as the socket takes them (waits for 'drain' only)
//   timed    role chunk at once, first content after ttftMs, then one every gapMs (absolute
//            schedule, so timer lateness does not accumulate); the write times are kept as truth
//   halt     role chunk and chunks/2 content chunks, then nothing until the client goes away
//   big      <chunks> is a size in bytes: the role chunk, then ONE content chunk of that many
//            characters written in 64 KiB writes (as a network delivers a big event: in many
//            reads), then the finish chunk (usage chunk) and [DONE]; the truth keeps when the big
//            event's first and last bytes were written
// The events are those of lib/sse-events.mjs (as OpenAI sends them, `stream_options.include_usage`
// honoured); in timed mode the finish chunk, usage chunk and [DONE] follow the last content at once.
//
// `/s/<paced|flooded>/<chunks>/v1/messages` streams an Anthropic Messages answer of <chunks> text
// deltas instead (message_start, content_block_start, a content_block_delta per token,
// content_block_stop, message_delta with the usage, message_stop), one write per event, with the
// same pacing: what `new Anthropic({ baseURL: '.../s/<mode>/<chunks>' })` calls.
//
// GET /truth/<id> returns when timed or big stream <id> (the `id` of its chunks, `chatcmpl-<id>`)
// arrived (epoch ms, performance.timeOrigin-based) and the write times (ms after arrival) of its
// events (big: `big.first`/`big.last`, when the big event's first and last bytes were written).
// stdout: one JSON line {"port":N} once listening.
import { createServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { anthropicEvents, bigEventStream, sseEvents } from './lib/sse-events.mjs';

/** Size of one write of the big event (mode big): what one network read brings at most. */
const BIG_WRITE = 64 * 1024;

const truths = new Map();
let nextId = 1;

/** Writes one event; resolves when the socket can take more (false if the client went away). */
function write(res, buf) {
  if (res.destroyed) return false;
  if (res.write(buf)) return true;
  return new Promise((resolve) => {
    const done = (ok) => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

/** Mode big: the role event, one event of script.chunks content bytes in 64 KiB writes, the rest. */
async function bigStream(res, id, arrived, bytes, usage) {
  const { role, big, end } = bigEventStream(id, bytes, usage);
  const writes = [];
  const truth = { arrivedAt: performance.timeOrigin + arrived, writes, usage, big: undefined };
  truths.set(String(id), truth);
  if (!(await write(res, role))) return;
  writes.push(performance.now() - arrived);
  let first;
  for (const part of big) {
    for (let at = 0; at < part.length; at += BIG_WRITE) {
      if (!(await write(res, part.subarray(at, at + BIG_WRITE)))) return;
      first ??= performance.now() - arrived;
    }
  }
  const last = performance.now() - arrived;
  writes.push(last);
  truth.big = { first, last };
  for (const buf of end) {
    if (!(await write(res, buf))) return;
    writes.push(performance.now() - arrived);
  }
  res.end();
}

async function stream(req, res, script, body) {
  const arrived = performance.now();
  const id = nextId++;
  const usage = body?.stream_options?.include_usage === true;
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', [script.protocol === 'anthropic' ? 'request-id' : 'x-request-id']: `req_${id}` });
  if (script.mode === 'big') return bigStream(res, id, arrived, script.chunks, usage);
  const list = script.protocol === 'anthropic' ? anthropicEvents(id, script.chunks) : sseEvents(id, script.chunks, usage);
  if (script.mode === 'halt') {
    for (let i = 0; i <= script.chunks / 2; i++) if (!(await write(res, list[i]))) return;
    return; // hold the connection open; the client aborts it
  }
  if (script.mode === 'timed') {
    const writes = [];
    truths.set(String(id), { arrivedAt: performance.timeOrigin + arrived, writes, usage });
    const last = list.length - 1 - (usage ? 2 : 1); // index of the finish chunk
    for (let i = 0; i < list.length; i++) {
      // i = 0 role (at once); 1..n content at ttft + (i-1)*gap; finish, usage and [DONE] right after the last content.
      if (i >= 1 && i < last) {
        const due = arrived + script.ttftMs + (i - 1) * script.gapMs;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
      }
      if (!(await write(res, list[i]))) return;
      writes.push(performance.now() - arrived);
    }
    res.end();
    return;
  }
  for (let i = 0; i < list.length; i++) {
    if (!(await write(res, list[i]))) return;
    if (script.mode === 'paced' && i % 8 === 7) await sleep(script.gapMs || 1);
  }
  res.end();
}

function parseScript(url) {
  const a = /^\/s\/(paced|flooded)\/(\d+)\/v1\/messages$/.exec(url);
  if (a !== null) return { protocol: 'anthropic', mode: a[1], chunks: Number(a[2]) };
  const m = /^\/s\/(paced|flooded|timed|halt|big)\/(\d+)(?:\/(\d+(?:\.\d+)?)\/(\d+(?:\.\d+)?))?\/v1\/chat\/completions$/.exec(url);
  if (m === null) return undefined;
  return { protocol: 'openai', mode: m[1], chunks: Number(m[2]), ttftMs: Number(m[3] ?? 0), gapMs: Number(m[4] ?? 0) };
}

const server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
  res.on('error', () => {});
  if (req.method === 'GET' && req.url.startsWith('/truth/')) {
    const truth = truths.get(req.url.slice('/truth/'.length));
    truths.delete(req.url.slice('/truth/'.length));
    res.writeHead(truth ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(truth ?? null));
    return;
  }
  const script = req.method === 'POST' ? parseScript(req.url) : undefined;
  if (script === undefined) {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"error":{"message":"not scripted","type":"invalid_request_error"}}');
    return;
  }
  let raw = '';
  req.setEncoding('utf8');
  req.on('data', (d) => (raw += d));
  req.on('end', () => {
    let body;
    try {
      body = JSON.parse(raw);
    } catch {
      body = undefined;
    }
    stream(req, res, script, body).catch(() => res.destroy());
  });
});
server.maxConnections = 10_000;
server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
// Stop with the orchestrator: it closes our stdin (or dies).
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
