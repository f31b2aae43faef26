// Scenario 5: one big SSE event. A long answer that arrives in a single chat-completions chunk
// (1 to 32 MB of content in one `data:` line), delivered as a network delivers it: in many reads
// (the server writes it in 64 KiB writes, as fast as the socket takes them; server.mjs, mode big),
// then a finish chunk and [DONE]. Read by the openai SDK, bare and with inferometer (all
// defaults, and `injectStreamUsage: false`). Whatever inferometer does per network read must not
// grow with the size of the event under way.
//
// Client side (`child`): one fresh process per variant and round, a warm-up request, then one
// request per size, smallest first, each after a forced GC: wall time from create() to the app
// receiving the big chunk and to the end of its `for await` loop, process CPU time (user + system)
// over the same window, and for inferometer its recorded TTFT (`inferometer.time_to_first_token`)
// against the truth: when the server wrote the big event's last byte, from the moment the request
// was handed to fetch (the epoch clock shared by the two processes, as in accuracy.mjs).
//
// Orchestrator (`run`): rounds with the order of variants rotated; ratios to bare in the same round.
// A variant and size that took more than SLOW_MS in the first round is measured in that round only,
// so that a quadratic cost cannot make the run take minutes.
import { params } from './app.mjs';
import { fixed, signed, table } from './lib/markdown.mjs';
import { median } from './lib/stats.mjs';
import { VARIANTS } from './variants.mjs';

const MB = 1024 * 1024;
const SIZES = { full: [1, 2, 4, 8, 16, 32], quick: [1, 4, 16] };
const IDS = ['bare@7', 'inferometer@7', 'inferometer-nousage@7'];
const SLOW_MS = 2000;

const bigURL = (port, bytes) => `http://127.0.0.1:${port}/s/big/${bytes}/v1`;
const abs = () => performance.timeOrigin + performance.now();

/** Mean of a histogram's records since the last collect, in ms (the instruments record seconds). */
function histogramMs(metricData, name) {
  let count = 0;
  let sum = 0;
  for (const m of metricData) {
    if (m.descriptor.name !== name) continue;
    for (const p of m.dataPoints) {
      count += p.value.count;
      sum += p.value.sum ?? 0;
    }
  }
  return count === 0 ? undefined : (sum / count) * 1000;
}

/** inferometer's TTFT for the request that just ended (it records all at once, duration among them). */
async function recordedTtft(v) {
  if (v.name === 'bare') return undefined;
  const data = [];
  for (let waited = 0; waited < 3000; waited += 10) {
    data.push(...(await v.collect()));
    if (histogramMs(data, 'gen_ai.client.operation.duration') !== undefined) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return histogramMs(data, 'inferometer.time_to_first_token');
}

export async function child(v, { port, sizes, warmupBytes, skip = [] }) {
  // Note when each request is handed to the network; the clients are made after this, so the SDK
  // (and inferometer, which sends through the client's own fetch) calls this one.
  const fetch = globalThis.fetch;
  let fetchAt;
  globalThis.fetch = function noteFetch(...args) {
    fetchAt ??= abs();
    return fetch.apply(this, args);
  };
  const one = async (client, bytes) => {
    globalThis.gc();
    fetchAt = undefined;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const stream = await client.chat.completions.create(params());
    let bigAt;
    let chars = 0;
    let id;
    for await (const chunk of stream) {
      id ??= chunk.id;
      const content = chunk.choices[0]?.delta?.content;
      if (content) {
        chars += content.length;
        bigAt ??= performance.now();
      }
    }
    const t1 = performance.now();
    const c = process.cpuUsage(c0);
    if (chars !== bytes) throw new Error(`${v.id}: the app received ${chars} characters of content, expected ${bytes}`);
    const ttft = await recordedTtft(v);
    const res = await fetch(`http://127.0.0.1:${port}/truth/${id.replace('chatcmpl-', '')}`);
    const truth = await res.json();
    const lastByte = truth.arrivedAt + truth.big.last; // epoch ms
    return {
      toBigMs: bigAt - t0,
      totalMs: t1 - t0,
      cpuMs: (c.user + c.system) / 1000,
      // when the big event's last byte was written, from the moment the request was handed to fetch
      trueTtftMs: lastByte - fetchAt,
      // how long after that the app had the chunk (the SDK's own work included)
      appLagMs: performance.timeOrigin + bigAt - lastByte,
      ttftMs: ttft,
      ttftErrorMs: ttft === undefined ? undefined : ttft - (lastByte - fetchAt),
    };
  };
  const warm = v.makeClient(bigURL(port, warmupBytes));
  for (let i = 0; i < 3; i++) await one(warm, warmupBytes);
  const result = { openai: v.openaiVersion, sizes: {} };
  for (const mb of sizes) {
    if (skip.includes(mb)) continue;
    result.sizes[mb] = await one(v.makeClient(bigURL(port, mb * MB)), mb * MB);
  }
  return result;
}

export async function run(ctx) {
  const sizes = SIZES[ctx.quick ? 'quick' : 'full'];
  const rounds = ctx.rounds ?? (ctx.quick ? 1 : 3);
  const byId = Object.fromEntries(IDS.map((id) => [id, []]));
  const slow = Object.fromEntries(IDS.map((id) => [id, []]));
  for (let r = 0; r < rounds; r++) {
    let order = [...IDS.slice(r % IDS.length), ...IDS.slice(0, r % IDS.length)];
    if (r % 2 === 1) order = order.reverse();
    for (const id of order) {
      ctx.progress(`big event round ${r + 1}/${rounds} ${id}`);
      const got = await ctx.child('big-event', id, { port: ctx.port, sizes, warmupBytes: 256 * 1024, skip: r === 0 ? [] : slow[id] });
      byId[id].push(got);
      if (r === 0) slow[id] = sizes.filter((mb) => got.sizes[mb].toBigMs > SLOW_MS);
    }
  }

  // Per size and variant: medians over the rounds that measured it, ratios to bare in the same round.
  const stat = (id, mb, q) => {
    const values = byId[id].map((r) => r.sizes[mb]?.[q]).filter((x) => x !== undefined);
    return values.length === 0 ? undefined : median(values);
  };
  const ratio = (id, mb, q) => {
    const values = byId[id].map((r, i) => (r.sizes[mb] === undefined ? undefined : r.sizes[mb][q] / byId['bare@7'][i].sizes[mb][q])).filter((x) => x !== undefined);
    return values.length === 0 ? undefined : median(values);
  };
  const n = (id, mb) => byId[id].filter((r) => r.sizes[mb] !== undefined).length;
  const x = (value) => (value === undefined ? 'n/a' : `${value.toFixed(2)}x`);
  const ms = (value) => (value === undefined ? 'n/a' : value >= 100 ? value.toFixed(0) : value.toFixed(1));

  const summary = {};
  const mainRows = [];
  const detailRows = [];
  for (const mb of sizes) {
    summary[mb] = {};
    for (const id of IDS) {
      summary[mb][id] = { toBigMs: stat(id, mb, 'toBigMs'), totalMs: stat(id, mb, 'totalMs'), cpuMs: stat(id, mb, 'cpuMs'), ratio: ratio(id, mb, 'toBigMs'), ttftErrorMs: stat(id, mb, 'ttftErrorMs'), n: n(id, mb) };
    }
    mainRows.push([
      `${mb} MB`,
      ms(stat('bare@7', mb, 'toBigMs')),
      ms(stat('inferometer@7', mb, 'toBigMs')),
      `**${x(ratio('inferometer@7', mb, 'toBigMs'))}**`,
      ms(stat('inferometer-nousage@7', mb, 'toBigMs')),
      `**${x(ratio('inferometer-nousage@7', mb, 'toBigMs'))}**`,
    ]);
    for (const id of IDS) {
      const [name] = id.split('@');
      const bare = name === 'bare';
      const cell = (q) => (bare ? ms(stat(id, mb, q)) : `${ms(stat(id, mb, q))} (${x(ratio(id, mb, q))})`);
      detailRows.push([
        `${mb} MB`,
        VARIANTS[name].label,
        cell('totalMs'),
        cell('cpuMs'),
        fixed(stat(id, mb, 'trueTtftMs'), 1),
        signed(stat(id, mb, 'appLagMs'), 1),
        bare ? 'n/a' : `${fixed(stat(id, mb, 'ttftMs'), 1)} (${signed(stat(id, mb, 'ttftErrorMs'), 1)})`,
        String(n(id, mb)),
      ]);
    }
  }
  const md = [
    '### 5. One big SSE event',
    '',
    `One streamed chat completion whose answer arrives in a single content chunk of 1 to ${sizes.at(-1)} MB (one \`data:\` line), written by the server in 64 KiB writes as fast as the socket takes them, then a finish chunk and \`[DONE]\`; openai ${byId['bare@7'][0].openai}, \`for await\` over the stream. ${rounds} round${rounds === 1 ? '' : 's'}, the order of variants rotated; per round and variant a fresh process: 3 warm-up requests of 256 KB, then one request per size, smallest first, each after a forced GC. Figures are medians over rounds, ratios = variant / bare in the same round (median). A variant and size slower than ${SLOW_MS / 1000} s in the first round is measured in that round only (column n).`,
    '',
    'Wall time from `create()` to the app receiving the big chunk, ms:',
    '',
    table(['event size', 'bare openai SDK', 'inferometer (all defaults)', 'ratio', 'inferometer (`injectStreamUsage: false`)', 'ratio'], mainRows),
    '',
    'Total = to the end of the `for await` loop; CPU = process CPU time (user+system) over the same window; last byte = when the server wrote the big event\'s last byte, from the moment the request was handed to fetch (the truth of TTFT; it grows when the client reads slowly, as the socket then pushes back); app lag = when the app had the chunk minus that; TTFT = what inferometer recorded as `inferometer.time_to_first_token` (minus the truth).',
    '',
    table(['event size', 'variant', 'total ms (ratio)', 'CPU ms (ratio)', 'last byte written, ms', 'app lag ms', 'recorded TTFT ms (error)', 'n'], detailRows),
  ].join('\n');
  return { markdown: md, summary, raw: byId };
}
