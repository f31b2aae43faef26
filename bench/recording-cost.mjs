// Scenario 4: what the metrics themselves cost. Streamed requests through the openai SDK against
// an in-memory fetch (no network, no server: only client work is left), with 1, 10 and 50
// workload classes live (requests cycle through them with withWorkload), in three set-ups:
//   bare      the SDK alone
//   no-op     inferometer recording to a no-op meter: fetch wrapper, body tap, SSE reader, record
//   OTel SDK  inferometer recording to a real MeterProvider (cumulative, as for Prometheus)
// Recording = OTel SDK - no-op, per request; blocks of requests alternate between set-ups. The
// OTel calls each request makes (and their attributes) are counted in a separate, untimed pass.
import { createNoopMeter } from '@opentelemetry/api';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { params } from './app.mjs';
import { loadInferometer } from './lib/inferometer.mjs';
import { fixed, table } from './lib/markdown.mjs';
import { median } from './lib/stats.mjs';
import { sseEvents } from './lib/sse-events.mjs';

class MemoryReader extends MetricReader {
  async onForceFlush() {}
  async onShutdown() {}
}

/** A fetch that answers every request with a stream from memory, 8 events per read, like the paced server. */
function memoryFetch(chunks) {
  const pieces = (usage) => {
    const events = sseEvents(1, chunks, usage);
    const out = [];
    for (let i = 0; i < events.length; i += 8) out.push(new Uint8Array(Buffer.concat(events.slice(i, i + 8))));
    return out;
  };
  const plain = pieces(false);
  const withUsage = pieces(true);
  return async (input, init) => {
    const list = JSON.parse(init.body).stream_options?.include_usage === true ? withUsage : plain;
    let i = 0;
    const body = new ReadableStream({
      pull(controller) {
        if (i < list.length) controller.enqueue(list[i++]);
        else controller.close();
      },
    });
    return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream; charset=utf-8' } });
  };
}

/** A MeterProvider that counts and times the record/add calls made on its instruments. */
function counting(provider) {
  const counts = { calls: 0, attributes: 0, ms: 0 };
  const wrap = (instrument) => {
    const call = (method, value, attributes) => {
      const t0 = performance.now();
      instrument[method](value, attributes);
      counts.ms += performance.now() - t0;
      counts.calls++;
      counts.attributes += Object.keys(attributes ?? {}).length;
    };
    return { record: (value, attributes) => call('record', value, attributes), add: (value, attributes) => call('add', value, attributes) };
  };
  return {
    counts,
    reset: () => Object.assign(counts, { calls: 0, attributes: 0, ms: 0 }),
    provider: {
      getMeter(...args) {
        const meter = provider.getMeter(...args);
        return {
          createHistogram: (...a) => wrap(meter.createHistogram(...a)),
          createCounter: (...a) => wrap(meter.createCounter(...a)),
          createUpDownCounter: (...a) => wrap(meter.createUpDownCounter(...a)),
          // The rate-limit gauges are observed when the SDK collects, not recorded per request.
          createObservableGauge: (...a) => meter.createObservableGauge(...a),
          addBatchObservableCallback: (...a) => meter.addBatchObservableCallback(...a),
        };
      },
    },
  };
}

export async function child(v, { classes, chunkCounts, blocks }) {
  const { instrument, withWorkload } = await loadInferometer();
  const results = [];
  for (const chunks of chunkCounts) {
    const fetch = memoryFetch(chunks);
    const perBlock = Math.min(300, Math.max(10, Math.round(4000 / chunks)));
    for (const w of classes) {
      const names = Array.from({ length: w }, (_, i) => `class-${i}`);
      const base = () => v.makeClient('http://127.0.0.1:9/v1').withOptions({ fetch });
      const reader = new MemoryReader();
      const clients = {
        bare: base(),
        noop: instrument(base(), { meterProvider: { getMeter: () => createNoopMeter() } }),
        sdk: instrument(base(), { meterProvider: new MeterProvider({ readers: [reader] }) }),
      };
      let n = 0;
      const request = async (client) => {
        await withWorkload(names[n++ % w], async () => {
          const stream = await client.chat.completions.create(params());
          for await (const chunk of stream) chunk.choices[0]?.delta?.content;
        });
      };
      for (const client of Object.values(clients)) for (let i = 0; i < Math.max(2 * w, 10); i++) await request(client);
      const cpu = { bare: [], noop: [], sdk: [] };
      for (let b = 0; b < blocks; b++) {
        const order = Object.keys(clients);
        for (const name of b % 2 === 0 ? order : order.reverse()) {
          globalThis.gc();
          const c0 = process.cpuUsage();
          for (let i = 0; i < perBlock; i++) await request(clients[name]);
          const c = process.cpuUsage(c0);
          cpu[name].push((c.user + c.system) / perBlock);
        }
        await reader.collect(); // an export interval, outside the measured blocks
      }
      // The OTel calls alone, timed one by one (less noisy than a difference of CPU times).
      const counter = counting(new MeterProvider({ readers: [new MemoryReader()] }));
      const counted = instrument(base(), { meterProvider: counter.provider });
      for (let i = 0; i < Math.max(2 * w, 10); i++) await request(counted);
      counter.reset();
      const timedRequests = perBlock * 2;
      for (let i = 0; i < timedRequests; i++) await request(counted);
      results.push({
        classes: w,
        chunks,
        perBlock,
        bareUs: median(cpu.bare),
        noopUs: median(cpu.noop),
        sdkUs: median(cpu.sdk),
        recordingUs: median(cpu.sdk.map((x, i) => x - cpu.noop[i])),
        calls: counter.counts.calls / timedRequests,
        attributesPerCall: counter.counts.attributes / counter.counts.calls,
        otelUs: (counter.counts.ms * 1000) / timedRequests,
      });
    }
  }
  return { openai: v.openaiVersion, results };
}

export async function run(ctx) {
  const rounds = 1;
  const args = { classes: [1, 10, 50], chunkCounts: [2, 32, 512], blocks: ctx.quick ? 2 : 7 };
  const runs = [];
  for (let r = 0; r < rounds; r++) {
    ctx.progress(`recording cost round ${r + 1}/${rounds}`);
    runs.push(await ctx.child('recording-cost', 'bare@7', args));
  }
  const rows = runs[0].results.map((first, k) => {
    const all = runs.map((r) => r.results[k]);
    const m = (f) => median(all.map(f));
    const recording = m((x) => x.recordingUs);
    return [
      String(first.classes),
      String(first.chunks),
      fixed(m((x) => x.bareUs), 1),
      fixed(m((x) => x.noopUs - x.bareUs), 1),
      fixed(m((x) => x.sdkUs - x.bareUs), 1),
      fixed(recording, 1),
      `${first.calls} (${first.attributesPerCall.toFixed(1)} attributes each)`,
      fixed(m((x) => x.otelUs), 1),
      fixed(m((x) => x.otelUs / x.calls), 2),
      fixed(m((x) => x.otelUs / x.chunks), 3),
    ];
  });
  const md = [
    '### 4. Cost of the metrics themselves',
    '',
    `Streamed chat completions through openai ${runs[0].openai} against an in-memory fetch (8 events per read; no network, no server), requests cycling through N workload classes with \`withWorkload\`; ${rounds} process(es), ${args.blocks} alternating blocks per set-up, median CPU per request. "no-op" = inferometer recording to a no-op meter (wrapper, tap, SSE reader, record: everything but OpenTelemetry); "OTel SDK" = recording to a real cumulative MeterProvider; recording = the difference of CPU times (noisy: a difference of two noisy figures). The last four columns come from a separate pass that counts the OTel \`record\`/\`add\` calls and times each one (performance.now() around the call): the cost of recording itself, much less noisy.`,
    '',
    table(['classes live', 'chunks/request', 'bare us/request', 'inferometer no-op: + us/request', 'inferometer OTel SDK: + us/request', 'recording (SDK - no-op) us/request', 'OTel record/add calls per request', 'time inside them us/request', 'us per call', 'us per chunk'], rows),
  ].join('\n');
  return { markdown: md, raw: runs };
}
