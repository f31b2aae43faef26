// Scenario 3: accuracy. The server scripts the truth (role chunk at once, first content after
// TTFT_MS, then one every GAP_MS) and reports the times it really wrote each event; each tool's
// TTFT, mean chunk gap, largest gap and duration are read from what it exported (metrics or spans)
// and compared with that truth, in four cases: the app iterates at once; starts 200 ms after
// create(); does 5 ms of work per chunk as an await; does it as synchronous CPU work.
import { consume, scriptedURL } from './app.mjs';
import { signed, table } from './lib/markdown.mjs';
import { median } from './lib/stats.mjs';
import { VARIANTS } from './variants.mjs';

const TTFT_MS = 150;
const GAP_MS = 2;
const CHUNKS = 40;

export const CASES = {
  immediate: { label: 'iterates at once', options: {} },
  late: { label: 'iterates 200 ms after create()', options: { delayMs: 200 } },
  slow: { label: '5 ms of async work per chunk', options: { workMs: 5 } },
  'slow-sync': { label: '5 ms of sync CPU work per chunk', options: { workMs: 5, syncWork: true } },
};

/** Where each tool puts each quantity: a histogram (mean of the request's records) or its span. */
const SOURCES = {
  inferometer: {
    ttft: 'inferometer.time_to_first_token',
    gap: 'gen_ai.client.operation.time_per_output_chunk',
    maxGap: 'inferometer.max_chunk_gap',
    duration: 'gen_ai.client.operation.duration',
  },
  otel: { duration: 'gen_ai.client.operation.duration' },
  openlit: { ttft: 'gen_ai.server.time_to_first_token', gap: 'gen_ai.server.time_per_output_token', duration: 'gen_ai.client.operation.duration' },
  traceloop: { duration: 'span' },
  openinference: { duration: 'span' },
};

function histogram(metricData, name) {
  let count = 0;
  let sum = 0;
  let max = -Infinity;
  for (const m of metricData) {
    if (m.descriptor.name !== name) continue;
    for (const p of m.dataPoints) {
      count += p.value.count;
      sum += p.value.sum ?? 0;
      max = Math.max(max, p.value.max ?? -Infinity);
    }
  }
  return count === 0 ? undefined : { count, mean: (sum / count) * 1000, max: max * 1000 };
}

const spanMs = (s) => (s.endTime[0] - s.startTime[0]) * 1000 + (s.endTime[1] - s.startTime[1]) / 1e6;

const abs = () => performance.timeOrigin + performance.now();

/**
 * The truth of one request, from the client's point of view: the server's write times (epoch
 * clock, shared by the processes of this machine) minus the moment the request was handed to
 * fetch, so that the request's own transit is part of the true TTFT and duration, as it is for
 * any real client.
 */
async function truthOf(fetch, port, id, fetchAt) {
  const res = await fetch(`http://127.0.0.1:${port}/truth/${id.replace('chatcmpl-', '')}`);
  const { arrivedAt, writes } = await res.json();
  const at = (ms) => arrivedAt + ms - fetchAt;
  const content = writes.slice(1, 1 + CHUNKS);
  const gaps = content.slice(1).map((t, i) => t - content[i]);
  return { ttft: at(content[0]), gap: (content.at(-1) - content[0]) / (CHUNKS - 1), gaps: CHUNKS - 1, maxGap: Math.max(...gaps), duration: at(writes.at(-1)), transit: arrivedAt - fetchAt };
}

/**
 * The floor of this machine: a raw fetch reader that timestamps each network read, with no SDK
 * and no tool, timed from its own fetch call. Whatever error it has, every in-process tool has.
 */
async function rawReader(fetch, port) {
  const fetchAt = abs();
  const res = await fetch(`${scriptedURL(port, 'timed', CHUNKS, TTFT_MS, GAP_MS)}/chat/completions`, { method: 'POST', body: '{"stream":true}' });
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  const contentAt = [];
  let id;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const now = abs();
    const text = decoder.decode(value, { stream: true });
    id ??= /"id":"(chatcmpl-\d+)"/.exec(text)?.[1];
    for (const _ of text.matchAll(/"content":"[^"]/g)) contentAt.push(now - fetchAt);
  }
  const gaps = contentAt.slice(1).map((t, i) => t - contentAt[i]);
  const got = { ttft: contentAt[0], gap: (contentAt.at(-1) - contentAt[0]) / (contentAt.length - 1), gaps: gaps.length, maxGap: Math.max(...gaps), duration: abs() - fetchAt };
  return { got, truth: await truthOf(fetch, port, id, fetchAt) };
}

/** What the tool reported for the request that just ended (waits for spans that end late). */
async function reported(v, tool, app) {
  if (tool === 'bare') {
    const at = app.contentAt;
    const gaps = at.slice(1).map((t, i) => t - at[i]);
    return { ttft: at[0] - app.calledAt, gap: (at.at(-1) - at[0]) / (at.length - 1), gaps: gaps.length, maxGap: Math.max(...gaps), duration: app.endAt - app.calledAt };
  }
  const sources = SOURCES[tool];
  const metricData = [];
  let spans = [];
  // Every tool records all of a request's measurements at once, its duration among them: wait for that.
  for (let waited = 0; waited < 3000; waited += 10) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    metricData.push(...(await v.collect()));
    spans = spans.concat(v.takeSpans());
    if (sources.duration === 'span' ? spans.length > 0 : histogram(metricData, sources.duration) !== undefined) break;
  }
  const out = {};
  for (const [quantity, source] of Object.entries(sources)) {
    if (source === 'span') {
      out[quantity] = spans.length > 0 ? spanMs(spans[0]) : undefined;
      continue;
    }
    const h = histogram(metricData, source);
    if (h === undefined) continue;
    out[quantity] = quantity === 'maxGap' ? h.max : h.mean;
    if (quantity === 'gap') out.gaps = h.count;
  }
  return out;
}

export async function child(v, { port, repeats }) {
  const tool = v.name.replace(/\+usage$/, '');
  // Note when each request is handed to the network: the clients are made after this, so the
  // SDK (and inferometer, which sends through the client's own fetch) calls this one.
  const fetch = globalThis.fetch;
  let fetchAt = [];
  globalThis.fetch = function noteFetch(...args) {
    fetchAt.push(abs());
    return fetch.apply(this, args);
  };
  const client = v.makeClient(scriptedURL(port, 'timed', CHUNKS, TTFT_MS, GAP_MS));
  await consume(client, { usage: v.usage }); // warm-up, not counted
  await reported(v, tool, { contentAt: [0, 1], calledAt: 0, endAt: 0 });
  const results = {};
  for (const [name, c] of Object.entries(CASES)) {
    results[name] = [];
    for (let i = 0; i < repeats; i++) {
      fetchAt = [];
      const app = await consume(client, { ...c.options, usage: v.usage, times: true });
      const got = await reported(v, tool, app);
      results[name].push({ got, truth: await truthOf(fetch, port, app.id, fetchAt[0]) });
    }
  }
  if (tool === 'bare') {
    results.floor = [];
    for (let i = 0; i < repeats; i++) results.floor.push(await rawReader(fetch, port));
  }
  return { openai: v.openaiVersion, results };
}

export async function run(ctx) {
  const ids = ['bare@7', 'inferometer@7', 'inferometer@6', 'otel@6', 'traceloop@6', 'openinference@7', 'openlit+usage@7'];
  if (!ctx.quick) ids.push('openlit@7'); // its tokenizer takes about 2 s per request
  const repeats = ctx.quick ? 2 : 7;
  const byId = {};
  for (const id of ids) {
    ctx.progress(`accuracy ${id}`);
    // OpenLIT without usage in the stream counts tokens with js-tiktoken for about 2 s per request.
    byId[id] = await ctx.child('accuracy', id, { port: ctx.port, repeats: id === 'openlit@7' ? Math.min(repeats, 3) : repeats });
  }
  const rows = [];
  const summary = {};
  for (const id of ids) {
    const [name] = id.split('@');
    summary[id] = {};
    for (const [caseName, c] of Object.entries(CASES)) {
      const runs = byId[id].results[caseName];
      const err = (q) => {
        const values = runs.filter((r) => r.got[q] !== undefined).map((r) => r.got[q] - r.truth[q]);
        return values.length === 0 ? undefined : median(values);
      };
      const e = { ttft: err('ttft'), gap: err('gap'), maxGap: err('maxGap'), duration: err('duration') };
      // A quantity the tool exports in general but did not for these requests.
      const exports = (q) => name === 'bare' || SOURCES[name.replace(/\+usage$/, '')][q] !== undefined;
      const cell = (q, digits) => (e[q] === undefined && exports(q) ? 'none recorded' : signed(e[q], digits));
      summary[id][caseName] = e;
      const gaps = runs[0].got.gaps;
      const label = name === 'bare' ? "the app's own stopwatch (bare SDK)" : VARIANTS[name].label;
      rows.push([
        label,
        byId[id].openai,
        c.label,
        cell('ttft', 2),
        cell('gap', 3),
        gaps === undefined ? 'n/a' : `${gaps} / ${runs[0].truth.gaps}`,
        cell('maxGap', 2),
        cell('duration', 2),
      ]);
    }
  }
  {
    const runs = byId['bare@7'].results.floor;
    const err = (q) => median(runs.map((r) => r.got[q] - r.truth[q]));
    summary.floor = { ttft: err('ttft'), gap: err('gap'), maxGap: err('maxGap'), duration: err('duration') };
    rows.unshift(['floor of this machine: a raw fetch reader, no SDK, no tool', '-', 'iterates at once', signed(err('ttft')), signed(err('gap'), 3), `${runs[0].got.gaps} / ${runs[0].truth.gaps}`, signed(err('maxGap')), signed(err('duration'))]);
  }
  const t = byId['bare@7'].results.immediate[0].truth;
  const transit = median(Object.values(byId).flatMap((b) => Object.values(b.results).flat().map((r) => r.truth.transit)));
  const md = [
    '### 3. Accuracy',
    '',
    `The server sends the role chunk at once, the first of ${CHUNKS} content chunks after ${TTFT_MS} ms, then one every ${GAP_MS} ms, and reports when it really wrote each event (the truth: e.g. TTFT ${t.ttft.toFixed(2)} ms, mean gap ${t.gap.toFixed(3)} ms, largest gap ${t.maxGap.toFixed(2)} ms, last byte ${t.duration.toFixed(2)} ms, all from the moment the request was handed to fetch, on the epoch clock shared by the two processes; the request itself took ${transit.toFixed(2)} ms median to reach the server on this machine). Errors = reported - truth in ms, median of ${repeats} requests per case (OpenLIT without usage: ${Math.min(repeats, 3)}, its tokenizer takes seconds per request); "n/a" = the tool exports no such quantity; "none recorded" = it does, but recorded nothing for these requests. Read from: inferometer \`inferometer.time_to_first_token\`, \`gen_ai.client.operation.time_per_output_chunk\` (sum/count), \`inferometer.max_chunk_gap\`, \`gen_ai.client.operation.duration\`; OpenLIT \`gen_ai.server.time_to_first_token\`, \`gen_ai.server.time_per_output_token\`, \`gen_ai.client.operation.duration\`; OTel contrib \`gen_ai.client.operation.duration\`; OpenLLMetry and OpenInference: their span's duration. The first row is the floor: the error of a raw fetch reader that timestamps every network read (wake-up latency of this virtual machine), which every in-process tool shares.`,
    '',
    table(['tool', 'openai', 'case', 'TTFT error ms', 'mean chunk gap error ms', 'gaps recorded / true', 'largest gap error ms', 'duration error ms'], rows),
  ].join('\n');
  return { markdown: md, summary, raw: byId };
}
