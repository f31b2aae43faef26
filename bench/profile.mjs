// `npm run profile`: where inferometer's per-chunk CPU goes. Runs the bare SDK and inferometer
// (openai 7, all defaults) in fresh pinned processes against the bench server, profiles only the
// measured streams (V8's sampling profiler through node:inspector, after warm-up), and prints the
// functions by self time per chunk: inferometer's own (mapped to src/ through the source map), and
// the difference to bare by function, which also catches what inferometer makes others do (a
// second ReadableStream, TextDecoder, regexps, GC). Profiles are kept in profiles/ (git-ignored)
// for Chrome DevTools or speedscope.
import './lib/node-check.mjs'; // first: a clear message on a Node too old for what follows
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { SourceMap } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { consume, scriptedURL } from './app.mjs';
import { fixed, table } from './lib/markdown.mjs';

const PROFILES = new URL('./profiles/', import.meta.url);
/** The inferometer variant profiled against bare@7: `--variant inferometer-sdk@7` for the inferometer/sdk set-up. */
const VARIANT = process.argv.includes('--variant') ? process.argv[process.argv.indexOf('--variant') + 1] : 'inferometer@7';

/** Client side: warm up, then profile `streams` streams (CPU, or with `alloc`, allocations). */
export async function child(v, { port, pacing, chunks, streams, warmup, intervalUs, alloc = false }) {
  const client = v.makeClient(scriptedURL(port, pacing, chunks));
  for (let i = 0; i < warmup; i++) await consume(client, { usage: v.usage });
  await v.collect();
  globalThis.gc();
  const session = new Session();
  session.connect();
  if (alloc) return allocations(session, client, v, { streams });
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
  await session.post('Profiler.start');
  const c0 = process.cpuUsage();
  let received = 0;
  for (let i = 0; i < streams; i++) received += (await consume(client, { usage: v.usage })).chunks;
  const c = process.cpuUsage(c0);
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  mkdirSync(PROFILES, { recursive: true });
  writeFileSync(new URL(`${v.id}-${pacing}.cpuprofile`, PROFILES), JSON.stringify(profile));
  return { received, cpuUsPerChunk: (c.user + c.system) / received, self: selfTimes(profile, received) };
}

/**
 * V8's allocation sampling profiler around the measured streams, counting objects a GC already
 * collected too (nearly all per-chunk garbage dies young): bytes per chunk by allocating function,
 * and by the innermost inferometer function on the stack (what inferometer makes Node allocate).
 */
async function allocations(session, client, v, { streams }) {
  await session.post('HeapProfiler.enable');
  await session.post('HeapProfiler.startSampling', { samplingInterval: 64, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  let received = 0;
  for (let i = 0; i < streams; i++) {
    const got = await consume(client, { usage: v.usage });
    received += got.chunks;
  }
  const { profile } = await session.post('HeapProfiler.stopSampling');
  session.disconnect();
  const self = new Map();
  const under = new Map();
  let total = 0;
  const walk = (node, owner) => {
    const { functionName, url, lineNumber, columnNumber } = node.callFrame;
    const name = functionName || '(anonymous)';
    const file = url.replace(/^file:\/\/.*\/node_modules\//, '').replace(/^file:\/\/.*\/\.snapshot\//, '');
    const here = `${name} ${original(url, lineNumber, columnNumber) ?? `${file}:${lineNumber + 1}`}`;
    const mine = category(url, name) === 'inferometer' ? here : owner;
    if (node.selfSize > 0) {
      self.set(here, (self.get(here) ?? 0) + node.selfSize / received);
      const key = mine ?? '(not under an inferometer function)';
      under.set(key, (under.get(key) ?? 0) + node.selfSize / received);
      total += node.selfSize / received;
    }
    for (const c of node.children) walk(c, mine);
  };
  walk(profile.head, undefined);
  return { received, bytesPerChunk: total, self: [...self.entries()], under: [...under.entries()] };
}

const maps = new Map();
/** `src/...ts:line` for a position in inferometer's dist, through its source map. */
function original(url, line, column) {
  if (!url.includes('/.snapshot/dist/')) return undefined;
  if (!maps.has(url)) {
    try {
      maps.set(url, new SourceMap(JSON.parse(readFileSync(`${fileURLToPath(url)}.map`, 'utf8'))));
    } catch {
      maps.set(url, undefined);
    }
  }
  const entry = maps.get(url)?.findEntry(line, column);
  if (entry === undefined || entry.originalSource === undefined) return undefined;
  return `${entry.originalSource.replace(/^.*?src\//, 'src/')}:${entry.originalLine + 1}`;
}

function category(url, name) {
  if (name.startsWith('(')) return name; // (garbage collector), (program), (idle)
  if (url.includes('/.snapshot/dist/')) return 'inferometer';
  if (url.includes('eventsource-parser')) return 'eventsource-parser (inferometer dependency)';
  if (url.includes('/openai/')) return 'openai SDK';
  if (url.includes('@opentelemetry')) return 'OpenTelemetry SDK';
  if (url.startsWith('node:') || url === '') return 'Node.js internals and builtins';
  return 'other';
}

/** Self time per function (us per chunk), from the samples of a V8 CPU profile. */
function selfTimes(profile, chunks) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    totals.set(id, (totals.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
  }
  const out = new Map();
  for (const [id, us] of totals) {
    const { functionName, url, lineNumber, columnNumber } = byId.get(id).callFrame;
    const name = functionName || '(anonymous)';
    if (name === '(idle)') continue;
    const file = url.replace(/^file:\/\/.*\/node_modules\//, '').replace(/^file:\/\/.*\/\.snapshot\//, '');
    const key = `${name} ${file}:${lineNumber + 1}`;
    const row = out.get(key) ?? { name, where: `${file}:${lineNumber + 1}`, src: original(url, lineNumber, columnNumber), category: category(url, name), us: 0 };
    row.us += us / chunks;
    out.set(key, row);
  }
  return [...out.entries()];
}

async function main() {
  const { runChild, startServer } = await import('./lib/processes.mjs');
  const { build, snapshot } = await import('./lib/inferometer.mjs');
  const { ensureRepository } = await import('./lib/setup.mjs');
  ensureRepository();
  if (!process.argv.includes('--no-build')) build();
  snapshot();
  const server = await startServer();
  const lines = [];
  try {
    if (process.argv.includes('--alloc')) {
      for (const pacing of ['paced', 'flooded']) {
        const args = { port: server.port, pacing, chunks: 2000, streams: 4, warmup: 4, alloc: true };
        const bare = await runChild('profile', 'bare@7', args);
        const inf = await runChild('profile', VARIANT, args);
        const bareSelf = new Map(bare.self);
        const infSelf = new Map(inf.self);
        const diff = [...new Set([...bareSelf.keys(), ...infSelf.keys()])]
          .map((k) => [k, bareSelf.get(k) ?? 0, infSelf.get(k) ?? 0])
          .filter(([, b, i]) => Math.abs(i - b) >= 4)
          .sort((a, b) => b[2] - b[1] - (a[2] - a[1]));
        lines.push(
          `### ${pacing}: bytes allocated per chunk (sampled every 64 bytes, collected objects included), 4 streams of 2000 chunks, openai 7, ${VARIANT}`,
          '',
          `bare ${bare.bytesPerChunk.toFixed(0)} B/chunk, inferometer ${inf.bytesPerChunk.toFixed(0)} B/chunk (+${(inf.bytesPerChunk - bare.bytesPerChunk).toFixed(0)}).`,
          '',
          'By the innermost inferometer function on the stack (inferometer run):',
          '',
          table(['inferometer function', 'B/chunk'], inf.under.sort((a, b) => b[1] - a[1]).slice(0, 20).map(([k, b]) => [k, fixed(b, 0)])),
          '',
          'By allocating function, inferometer minus bare (|difference| >= 4 B):',
          '',
          table(['function', 'bare B/chunk', 'inferometer B/chunk', 'difference'], diff.slice(0, 30).map(([k, b, i]) => [k, fixed(b, 0), fixed(i, 0), fixed(i - b, 0)])),
          '',
        );
      }
      process.stdout.write(`${lines.join('\n')}\n`);
      return;
    }
    for (const [pacing, streams] of [['flooded', 12], ['paced', 6]]) {
      const args = { port: server.port, pacing, chunks: 2000, streams, warmup: 4, intervalUs: 50 };
      const bare = await runChild('profile', 'bare@7', args);
      const inf = await runChild('profile', VARIANT, args);
      const bareSelf = new Map(bare.self);
      const infSelf = new Map(inf.self);
      const sum = (rows) => rows.reduce((a, [, r]) => a + r.us, 0);
      const cats = new Map();
      for (const [which, rows] of [['bare', bare.self], ['inf', inf.self]]) {
        for (const [, r] of rows) {
          const c = cats.get(r.category) ?? { bare: 0, inf: 0 };
          c[which] += r.us;
          cats.set(r.category, c);
        }
      }
      const own = [...infSelf.values()].filter((r) => r.category === 'inferometer' || r.category.startsWith('eventsource-parser')).sort((a, b) => b.us - a.us);
      const diff = [...new Set([...bareSelf.keys(), ...infSelf.keys()])]
        .map((k) => ({ ...(infSelf.get(k) ?? bareSelf.get(k)), delta: (infSelf.get(k)?.us ?? 0) - (bareSelf.get(k)?.us ?? 0) }))
        .sort((a, b) => b.delta - a.delta);
      lines.push(
        `### ${pacing}: ${streams} streams of 2000 chunks, openai 7, sampled every ${args.intervalUs} us`,
        '',
        `CPU per chunk under the profiler: bare ${bare.cpuUsPerChunk.toFixed(2)} us, inferometer ${inf.cpuUsPerChunk.toFixed(2)} us; sampled (non-idle) time: bare ${sum(bare.self).toFixed(2)} us, inferometer ${sum(inf.self).toFixed(2)} us per chunk.`,
        '',
        table(['where the time goes (self time)', 'bare us/chunk', 'inferometer us/chunk', 'difference'], [...cats.entries()].sort((a, b) => b[1].inf - a[1].inf).map(([c, v]) => [c, fixed(v.bare, 3), fixed(v.inf, 3), fixed(v.inf - v.bare, 3)])),
        '',
        "inferometer's own functions (and its SSE parser) by self time:",
        '',
        table(['function', 'source', 'us/chunk'], own.slice(0, 20).map((r) => [r.name, r.src ?? r.where, fixed(r.us, 3)])),
        '',
        'Largest differences to bare, by function (what inferometer adds, wherever it runs):',
        '',
        table(['function', 'where', 'category', 'bare', 'inferometer', '+us/chunk'], diff.slice(0, 25).map((r) => [r.name, r.src ?? r.where, r.category, fixed(bareSelf.get(`${r.name} ${r.where}`)?.us ?? 0, 3), fixed(infSelf.get(`${r.name} ${r.where}`)?.us ?? 0, 3), fixed(r.delta, 3)])),
        '',
      );
    }
  } finally {
    server.stop();
  }
  const doc = [`# Where inferometer's per-chunk CPU goes (generated by \`npm run profile\`, ${new Date().toISOString()}, Node ${process.version})`, '', ...lines].join('\n');
  mkdirSync(PROFILES, { recursive: true });
  writeFileSync(new URL('summary.md', PROFILES), doc);
  process.stdout.write(`${doc}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await main();
