// Scenario 1: CPU per streamed chunk, and wall time, for every variant, paced and flooded.
//
// Client side (`child`): after set-up and warm-up streams, each measured stream is preceded by a
// forced GC and measured alone: process CPU time (user + system, all threads) and wall time from
// create() to the end of the `for await` loop, divided by the chunks the app received. GC pauses
// inside the window are reported apart (they are part of the CPU figure). What the tool exported
// is collected after each stream, outside the window, as a periodic exporter would.
//
// Orchestrator (`run`): every round runs each variant in a fresh process, in an order rotated
// (and reversed every other round) so that no variant always runs first or last; ratios are taken
// against the bare SDK on the same openai version in the same round (Anthropic variants: against
// the bare @anthropic-ai/sdk). With a baseline dist (run.mjs --baseline-dist), inferometer under
// test is also compared with the baseline build directly, round by round.
import { PerformanceObserver } from 'node:perf_hooks';
import { scriptedURL } from './app.mjs';
import { fixed, ratioCell, signed, table } from './lib/markdown.mjs';
import { median, summarizeRatios } from './lib/stats.mjs';
import { VARIANTS, referenceOf } from './variants.mjs';

const PACINGS = ['paced', 'flooded'];

/**
 * Bytes allocated per chunk, in a process whose young generation (64 MB) holds a whole stream's
 * garbage: with no GC during the stream, the growth of the heap is what the stream allocated.
 * Deterministic where CPU time is noisy, and the root of the GC share of the CPU figure.
 */
async function allocation(v, { port, chunks }) {
  const result = { openai: v.openaiVersion };
  const gcAt = [];
  new PerformanceObserver((list) => gcAt.push(...list.getEntries().map((e) => e.startTime))).observe({ entryTypes: ['gc'] });
  for (const pacing of PACINGS) {
    const client = v.makeClient(scriptedURL(port, pacing, chunks));
    for (let i = 0; i < 3; i++) await v.consume(client, { usage: v.usage });
    const bytes = [];
    for (let i = 0; i < 3; i++) {
      globalThis.gc();
      const t0 = performance.now();
      const before = process.memoryUsage().heapUsed;
      const got = await v.consume(client, { usage: v.usage });
      const after = process.memoryUsage().heapUsed;
      const t1 = performance.now();
      await new Promise((resolve) => setTimeout(resolve, 20)); // let the gc observer deliver
      if (!gcAt.some((t) => t >= t0 && t <= t1)) bytes.push((after - before) / got.chunks);
    }
    result[pacing] = { bytesPerChunk: bytes.length > 0 ? median(bytes) : Number.NaN };
  }
  return result;
}

export const ALLOCATION_FLAGS = ['--min-semi-space-size=64', '--max-semi-space-size=64'];

export async function child(v, { port, chunks, streams, warmup, measure = 'cpu' }) {
  if (measure === 'allocation') return allocation(v, { port, chunks });
  const gcPauses = [];
  new PerformanceObserver((list) => gcPauses.push(...list.getEntries().map((e) => [e.startTime, e.duration]))).observe({ entryTypes: ['gc'] });
  const exported = { metricPoints: 0, spans: 0 };
  const drain = async () => {
    for (const m of await v.collect()) exported.metricPoints += m.dataPoints.length;
    exported.spans += v.takeSpans().length;
  };
  const result = { openai: v.openaiVersion };
  for (const pacing of PACINGS) {
    const client = v.makeClient(scriptedURL(port, pacing, chunks));
    // The first pacing's warm-up also warms the code the second one runs.
    for (let i = 0; i < (pacing === PACINGS[0] ? warmup : 1); i++) await v.consume(client, { usage: v.usage });
    await drain();
    const cpu = [];
    const wall = [];
    const gc = [];
    let received = 0;
    for (let i = 0; i < streams; i++) {
      globalThis.gc();
      const c0 = process.cpuUsage();
      const w0 = performance.now();
      const got = await v.consume(client, { usage: v.usage });
      const w1 = performance.now();
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / got.chunks);
      wall.push(((w1 - w0) * 1000) / got.chunks);
      received += got.chunks;
      await new Promise((resolve) => setImmediate(resolve)); // let the gc observer deliver
      gc.push((gcPauses.filter(([start]) => start >= w0 && start <= w1).reduce((a, [, d]) => a + d, 0) * 1000) / got.chunks);
      gcPauses.length = 0;
      await drain();
    }
    // The median stream of this process: robust to a stream hit by a scheduler hiccup.
    result[pacing] = { cpuUs: median(cpu), wallUs: median(wall), gcUs: median(gc), chunksPerStream: received / streams, streamsCpuUs: cpu };
  }
  result.exported = exported;
  return result;
}

export async function run(ctx) {
  const ids = ctx.variants('cpu');
  const once = ctx.variants('cpuOnce');
  const q = ctx.quick;
  const args = { port: ctx.port, chunks: q ? 1000 : 2000, streams: q ? 2 : 5, warmup: ctx.warmup ?? (q ? 2 : 3) };
  const rounds = ctx.rounds ?? (q ? 1 : 6);
  const byId = Object.fromEntries(ids.map((id) => [id, []]));
  for (let r = 0; r < rounds; r++) {
    const shift = (r * 3) % ids.length;
    let order = [...ids.slice(shift), ...ids.slice(0, shift)];
    if (r % 2 === 1) order = order.reverse();
    for (const id of order) {
      ctx.progress(`cpu round ${r + 1}/${rounds} ${id}`);
      byId[id].push(await ctx.child('cpu-per-chunk', id, args));
    }
  }
  for (const id of once) {
    ctx.progress(`cpu once ${id}`);
    byId[id] = [await ctx.child('cpu-per-chunk', id, { ...args, streams: 2, warmup: 1 })];
  }
  const allocated = {};
  for (const id of ids) {
    ctx.progress(`allocation ${id}`);
    allocated[id] = await ctx.child('cpu-per-chunk', id, { ...args, chunks: 1000, measure: 'allocation' }, { nodeFlags: ALLOCATION_FLAGS });
  }

  const summary = {};
  const rowsBy = { paced: [], flooded: [] };
  for (const id of [...ids, ...once]) {
    const [name] = id.split('@');
    const bare = byId[referenceOf(id)];
    const ex = byId[id][0].exported;
    summary[id] = {};
    for (const pacing of PACINGS) {
      const cpu = byId[id].map((r) => r[pacing].cpuUs);
      const ratios = byId[id].map((r, i) => r[pacing].cpuUs / bare[i][pacing].cpuUs);
      const wallRatios = byId[id].map((r, i) => r[pacing].wallUs / bare[i][pacing].wallUs);
      const s = summarizeRatios(ratios);
      const overheadUs = median(byId[id].map((r, i) => r[pacing].cpuUs - bare[i][pacing].cpuUs));
      const bytes = allocated[id]?.[pacing].bytesPerChunk;
      const bareBytes = allocated[referenceOf(id)]?.[pacing].bytesPerChunk;
      summary[id][pacing] = { ratio: s, overheadUs, cpuUs: median(cpu), bytes, bytesOverBare: bytes === undefined || bareBytes === undefined ? undefined : bytes - bareBytes };
      rowsBy[pacing].push([
        once.includes(id) ? `${VARIANTS[name].label} (1 round of 2 streams: its per-request tokenizer dominates)` : VARIANTS[name].label,
        byId[id][0].openai,
        fixed(median(cpu)),
        name.startsWith('bare') ? '1 (reference)' : ratioCell(s),
        name.startsWith('bare') ? '' : fixed(overheadUs),
        fixed(median(byId[id].map((r) => r[pacing].gcUs))),
        bytes === undefined ? 'n/a' : name.startsWith('bare') ? fixed(bytes, 0) : `${fixed(bytes, 0)} (${signed(bytes - bareBytes, 0)})`,
        name.startsWith('bare') ? `${fixed(median(byId[id].map((r) => r[pacing].wallUs)))} us` : `${median(wallRatios).toFixed(3)}x`,
        name.startsWith('bare') ? '-' : `${ex.metricPoints} points, ${ex.spans} spans`,
      ]);
    }
  }
  const header = ['variant', 'openai', 'CPU us/chunk', 'CPU ratio to bare: median (min-max, 95% CI)', '+us/chunk', 'of which GC us/chunk', 'bytes allocated/chunk (vs bare)', 'wall/chunk', 'exported (sanity)'];

  // Under test vs the baseline build, directly: the same columns, the baseline as the reference.
  const versus = [];
  for (const id of ids.filter((x) => x.startsWith('inferometer-baseline@'))) {
    const now = `inferometer@${id.split('@')[1]}`;
    if (byId[now] === undefined) continue;
    summary[`${now} vs baseline`] = {};
    for (const pacing of PACINGS) {
      const ratios = byId[now].map((r, i) => r[pacing].cpuUs / byId[id][i][pacing].cpuUs);
      const s = summarizeRatios(ratios);
      const overheadUs = median(byId[now].map((r, i) => r[pacing].cpuUs - byId[id][i][pacing].cpuUs));
      const bytes = allocated[now]?.[pacing].bytesPerChunk;
      const baseBytes = allocated[id]?.[pacing].bytesPerChunk;
      const ex = byId[now][0].exported;
      summary[`${now} vs baseline`][pacing] = { ratio: s, overheadUs };
      versus.push([
        `${VARIANTS.inferometer.label} vs ${VARIANTS['inferometer-baseline'].label}, **${pacing}**`,
        byId[now][0].openai,
        `${fixed(median(byId[now].map((r) => r[pacing].cpuUs)))} vs ${fixed(median(byId[id].map((r) => r[pacing].cpuUs)))}`,
        ratioCell(s),
        fixed(overheadUs),
        `${fixed(median(byId[now].map((r) => r[pacing].gcUs)))} vs ${fixed(median(byId[id].map((r) => r[pacing].gcUs)))}`,
        bytes === undefined ? 'n/a' : `${fixed(bytes, 0)} (${signed(bytes - baseBytes, 0)})`,
        `${median(byId[now].map((r, i) => r[pacing].wallUs / byId[id][i][pacing].wallUs)).toFixed(3)}x`,
        `${ex.metricPoints} points vs ${byId[id][0].exported.metricPoints}`,
      ]);
    }
  }
  const versusHeader = header.map((h) => h.replace('to bare', 'to baseline').replace('vs bare', 'vs baseline'));
  const md = [
    '### 1. CPU per streamed chunk',
    '',
    `${rounds} rounds; per round and variant a fresh process: ${args.warmup} warm-up streams (1 more before the second pacing) + ${args.streams} measured streams of ${args.chunks} content chunks per pacing. CPU = process CPU time (user+system, all threads) from create() to the end of the \`for await\` loop, divided by the chunks the app received, median stream of each process; a forced GC before each stream (GC pauses inside the window are included, and shown apart). Ratio = variant / bare SDK on the same openai in the same round; "+us/chunk" = median of the per-round differences; wall = ratio of wall time to bare (bare: absolute). Bytes allocated per chunk: a separate process per variant with a 64 MB young generation, so that no GC runs during a stream and the heap's growth over it is what it allocated (median of 3 streams of 1000 chunks without a GC). "exported" = metric points and spans the tool produced in the first round's measured streams, proof that it was active.`,
    '',
    '**Paced** (1 ms pause after every 8 events: about 8 events per network read, as with real providers)',
    '',
    table(header, rowsBy.paced),
    '',
    '**Flooded** (the server writes as fast as the socket takes it)',
    '',
    table(header, rowsBy.flooded),
    ...(versus.length === 0
      ? []
      : [
          '',
          '**Under test vs the baseline build**, directly: ratio = inferometer under test / the baseline inferometer in the same round (bare cancels out); "+us/chunk" = median of the per-round differences; CPU, GC and exported: under test vs baseline.',
          '',
          table(versusHeader, versus),
        ]),
  ].join('\n');
  return { markdown: md, summary, raw: byId };
}
