// Scenario 2: memory. (a) Heap per in-flight stream: open N concurrent streams, read each one half
// way (the server then holds them open), force GC, and compare the heap with the heap before;
// bare vs each tool. (b) Heap over one long stream: 100,000 chunks, flooded, heap after a forced
// GC at every tenth of the way; a tool that buffers content (or a timestamp per chunk) grows.
import { consume, params, scriptedURL } from './app.mjs';
import { fixed, signed, table } from './lib/markdown.mjs';
import { median } from './lib/stats.mjs';
import { VARIANTS, referenceOf } from './variants.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Growth over the samples, robust to a one-time drop or step (a late collection of the warm-up's
 * leftovers): the median of all pairwise slopes (Theil-Sen), times the span.
 */
function growth(samples) {
  const slopes = [];
  for (let i = 0; i < samples.length; i++) for (let j = i + 1; j < samples.length; j++) slopes.push((samples[j] - samples[i]) / (j - i));
  return median(slopes) * (samples.length - 1);
}

function settledHeap() {
  globalThis.gc();
  globalThis.gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, external: m.external };
}

/** Opens `count` streams in batches and reads each to its middle; returns what keeps them alive. */
async function openHalfRead(client, count, batch, half, usage) {
  const held = [];
  for (let opened = 0; opened < count; opened += batch) {
    const n = Math.min(batch, count - opened);
    await Promise.all(
      Array.from({ length: n }, async () => {
        const stream = await client.chat.completions.create(params(usage));
        const iterator = stream[Symbol.asyncIterator]();
        for (let i = 0; i <= half; i++) await iterator.next(); // role chunk + half of the content
        held.push({ stream, iterator });
      }),
    );
  }
  return held;
}

async function closeAll(held) {
  // OpenLLMetry hands the app its own async generator instead of the SDK's Stream: no controller.
  for (const h of held) h.stream.controller?.abort();
  await Promise.allSettled(held.map((h) => h.iterator.return?.()));
  held.length = 0;
  await sleep(200);
}

export async function child(v, { port, streams, batch, half, longChunks }) {
  // (a) in-flight streams
  const halting = v.makeClient(scriptedURL(port, 'halt', half * 2));
  await closeAll(await openHalfRead(halting, batch, batch, half, v.usage)); // warm-up: JIT, sockets
  await v.collect();
  v.takeSpans();
  const t0 = performance.now();
  const before = settledHeap();
  const held = await openHalfRead(halting, streams, batch, half, v.usage);
  await sleep(100);
  const after = settledHeap();
  await closeAll(held);

  // (b) one long stream
  const t1 = performance.now();
  await consume(v.makeClient(scriptedURL(port, 'flooded', 2000)), { usage: v.usage }); // warm-up
  const long = v.makeClient(scriptedURL(port, 'flooded', longChunks));
  await v.collect();
  v.takeSpans();
  const heapAt = [];
  const step = longChunks / 10;
  const stream = await long.chat.completions.create(params(v.usage));
  let content = 0;
  for await (const chunk of stream) {
    if (chunk.choices[0]?.delta?.content && ++content % step === 0) heapAt.push(settledHeap().heap);
    if (content === longChunks) break; // the same for every variant; spares OpenLIT's tokenizer a 100k-token text
  }
  return {
    openai: v.openaiVersion,
    perStreamHeapKB: (after.heap - before.heap) / streams / 1024,
    perStreamExternalKB: (after.external - before.external) / streams / 1024,
    heapAtKB: heapAt.map((h) => h / 1024),
    seconds: [(t1 - t0) / 1000, (performance.now() - t1) / 1000],
  };
}

export async function run(ctx) {
  const q = ctx.quick;
  const ids = ctx.variants('memory');
  const args = { port: ctx.port, streams: q ? 200 : 1000, batch: 100, half: 10, longChunks: q ? 10_000 : 100_000 };
  const rounds = ctx.memoryRounds ?? 1;
  const byId = Object.fromEntries(ids.map((id) => [id, []]));
  for (let r = 0; r < rounds; r++) {
    for (const id of r % 2 === 0 ? ids : [...ids].reverse()) {
      ctx.progress(`memory round ${r + 1}/${rounds} ${id}`);
      byId[id].push(await ctx.child('memory', id, args));
    }
  }
  const summary = {};
  const rows = ids.map((id) => {
    const [name] = id.split('@');
    const runs = byId[id];
    const bare = byId[referenceOf(id)];
    const perStream = median(runs.map((r) => r.perStreamHeapKB));
    const overBare = median(runs.map((r, i) => r.perStreamHeapKB - bare[i].perStreamHeapKB));
    const grew = median(runs.map((r) => growth(r.heapAtKB)));
    const bareGrew = median(bare.map((r) => growth(r.heapAtKB)));
    summary[id] = { perStream, overBare, growth: grew, growthOverBare: grew - bareGrew };
    const curve = runs[0].heapAtKB.map((h) => Math.round(h - runs[0].heapAtKB[0])).join(', ');
    return [
      VARIANTS[name].label,
      runs[0].openai,
      fixed(perStream),
      name === 'bare' ? '(reference)' : signed(overBare),
      fixed(median(runs.map((r) => r.perStreamExternalKB))),
      signed(grew, 0),
      name === 'bare' ? '(reference)' : signed(grew - bareGrew, 0),
      curve,
    ];
  });
  const md = [
    '### 2. Memory',
    '',
    `${rounds} round(s), a fresh process per variant each. In-flight: ${args.streams} concurrent streams opened ${args.batch} at a time, each read to its middle (role chunk + ${args.half} of ${args.half * 2} content chunks; the server then holds it open), heap after forced GC minus heap before, per stream. Long stream: ${args.longChunks.toLocaleString('en')} content chunks, flooded; heap after a forced GC at every tenth, growth from the first tenth to the end as the median of all pairwise slopes (Theil-Sen, so that a one-time drop, such as the warm-up's leftovers being collected, does not count), median over rounds.`,
    '',
    table(
      ['variant', 'openai', 'heap KB per in-flight stream', 'KB over bare', 'external KB per stream', `heap growth KB over the long stream`, 'growth KB over bare', 'heap KB at each tenth, from the first (first round)'],
      rows,
    ),
  ].join('\n');
  return { markdown: md, summary, raw: byId };
}
