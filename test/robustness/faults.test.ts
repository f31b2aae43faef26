/**
 * Faults: whatever the network, the provider or the app does, every request ends in exactly one
 * record (the sum of `inferometer.requests` is 1) with the right outcome and `error.type`, the
 * active gauge returns to 0, and the app sees what it would see without inferometer.
 * (429 and 5xx retries, timeouts before headers, refused and reset connections, mid-stream
 * disconnects, aborts, break and a throwing meter are pinned in test/failures.test.ts.)
 */
import type { Attributes } from '@opentelemetry/api';
import { MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InferometerConfigError, instrument } from '../../src/index.js';
import { CHAT, useHarness } from '../support/harness.ts';
import type { Snapshot } from '../support/metrics.ts';
import { type ByteServer, appView, cancelClosesConnections, collectGarbage, outcomes, quietClient, startByteServer, thrown } from './support.ts';

const h = useHarness();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const STREAM = { ...CHAT, stream: true as const };

/** Exactly one request, ended as `outcome` (`success`, `cancelled`, `error:<error.type>`), none under way. */
function expectOneRecord(s: Snapshot, outcome: string): void {
  expect(outcomes(s)).toEqual({ [outcome]: 1 });
  expect(s.sum('inferometer.requests.active')).toBe(0);
}

/** Collects until one request has ended, then a while longer, so that a second record would show. */
/** The server's open connections once they stop dropping (polled up to 2 s, with GCs between). */
async function openConnections(server: ByteServer): Promise<number> {
  let n = await server.connections();
  for (const deadline = performance.now() + 2000; n > 0 && performance.now() < deadline; ) {
    await collectGarbage();
    await sleep(50);
    n = await server.connections();
  }
  return n;
}

/** Polls `read` until `done` holds or 3 s pass. */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  let value = await read();
  for (const deadline = performance.now() + 3000; !done(value) && performance.now() < deadline; ) {
    await collectGarbage();
    await sleep(20);
    value = await read();
  }
  return value;
}

async function settled(): Promise<Snapshot> {
  await h.finished();
  await sleep(50);
  return h.collect();
}

const CHUNK = (content: string, finish: string | null = null) =>
  `data: {"id":"chatcmpl-fixed","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{"content":${JSON.stringify(content)}},"logprobs":null,"finish_reason":${finish === null ? 'null' : `"${finish}"`}}]}\n\n`;

describe('the provider pushes back', () => {
  it('a 429 with `retry-after` in seconds, answered by the SDK retry: one successful request of two attempts, the wait included in TTFT', async () => {
    h.server.enqueue({ kind: 'json', status: 429, headers: { 'retry-after': '0.3' } }, { kind: 'chat-stream', chunks: ['a', 'b'] });
    const chunks = [];
    for await (const c of await h.client({}, { maxRetries: 1 }).chat.completions.create(STREAM)) chunks.push(c);
    expect(chunks.length).toBeGreaterThan(0);
    const s = await settled();
    expectOneRecord(s, 'success');
    expect(s.sum('inferometer.attempts', { 'http.response.status_code': 429 })).toBe(1);
    expect(s.sum('inferometer.attempts', { 'http.response.status_code': 200 })).toBe(1);
    expect(s.histogram('inferometer.time_to_first_token').min).toBeGreaterThanOrEqual(0.29);
  });

  it('a 429 with `retry-after` as an HTTP date, on every attempt: one error of type "429" with every attempt counted', async () => {
    h.server.setFallback(() => ({ kind: 'json', status: 429, headers: { 'retry-after': new Date(Date.now() + 200).toUTCString() } }));
    const error = await thrown(() => h.client({}, { maxRetries: 1 }).chat.completions.create(CHAT));
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    const s = await settled();
    expectOneRecord(s, 'error:429');
    expect(s.sum('inferometer.attempts', { 'http.response.status_code': 429 })).toBe(2);
  });

  it('an abort while the SDK waits to retry a 429 ends the request once, as cancelled', async () => {
    h.server.enqueue({ kind: 'json', status: 429, headers: { 'retry-after': '5' } });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const error = await thrown(() => h.client({}, { maxRetries: 2 }).chat.completions.create(CHAT, { signal: controller.signal }));
    expect(error).toBeInstanceOf(OpenAI.APIUserAbortError);
    const s = await settled();
    expectOneRecord(s, 'cancelled');
    expect(s.sum('inferometer.attempts')).toBe(1);
  });
});

describe('the network breaks mid-stream', () => {
  let server: ByteServer;
  beforeAll(async () => {
    server = await startByteServer();
  });
  afterAll(() => server.close());

  it('a connection reset (RST) mid-stream: one error of type "stream_interrupted", and the app gets the error it gets without inferometer', async () => {
    server.handle(() => ({ writes: [CHUNK('a'), CHUNK('b')], end: 'reset', endDelayMs: 20 }));
    const create = (client: OpenAI) => (signal: AbortSignal) => client.chat.completions.create(STREAM, { signal });
    const bare = await appView(create(quietClient(server.baseURL)));
    const metered = await appView(create(instrument(quietClient(server.baseURL), { meterProvider: h.meterProvider, injectStreamUsage: false })));
    expect(bare.error).toBeDefined();
    expect(metered).toEqual(bare);
    expectOneRecord(await settled(), 'error:stream_interrupted');
  });

  it('a server that stalls mid-stream until the app calls stream.controller.abort(): one cancelled request, and the loop ends quietly as without inferometer', async () => {
    server.handle(() => ({ writes: [CHUNK('a')], end: 'hang' }));
    const run = async (client: OpenAI) => {
      const stream = await client.chat.completions.create(STREAM);
      setTimeout(() => stream.controller.abort(), 100);
      return appView(async () => stream);
    };
    const bare = await run(quietClient(server.baseURL));
    const metered = await run(instrument(quietClient(server.baseURL), { meterProvider: h.meterProvider }));
    expect(bare.items).toHaveLength(1);
    expect(metered).toEqual(bare);
    expectOneRecord(await settled(), 'cancelled');
  });
});

describe('the app does something unusual with the stream', () => {
  it('tee() with one branch left after one chunk and dropped, the other read to the end: one successful request, nothing after', async () => {
    h.server.enqueue({ kind: 'chat-stream', chunks: ['a', 'b', 'c', 'd'], gapMs: 5 });
    const stream = await h.client().chat.completions.create(STREAM);
    const [left, right] = stream.tee();
    await (async () => {
      const it = right[Symbol.asyncIterator]();
      await it.next(); // one chunk, then the branch is simply forgotten
    })();
    const seen = [];
    for await (const c of left) seen.push(c.choices[0]?.delta.content ?? '');
    expect(seen.join('')).toBe('abcd');
    await collectGarbage(3);
    expectOneRecord(await settled(), 'success');
  });

  it('a stream the app never iterates is recorded as success once the server has sent all of it: the tap reads it ahead', async () => {
    h.server.enqueue({ kind: 'chat-stream', chunks: ['a', 'b'] });
    const stream = await h.client().chat.completions.create(STREAM);
    const s = await settled();
    expectOneRecord(s, 'success');
    expect(s.histogram('inferometer.time_to_first_token').count).toBe(1);
    // ... and the app can still read every chunk afterwards
    const seen = [];
    for await (const c of stream) seen.push(c.choices[0]?.delta.content ?? '');
    expect(seen.join('')).toBe('ab');
  });

  it('an error the app throws inside the for-await loop reaches the app unchanged, and the request is recorded as cancelled', async () => {
    h.server.enqueue({ kind: 'chat-stream', chunks: ['a', 'b', 'c', 'd'], gapMs: 20 });
    const mine = new RangeError('the app gave up');
    const error = await thrown(async () => {
      for await (const _ of await h.client().chat.completions.create(STREAM)) throw mine;
    });
    expect(error).toBe(mine);
    const s = await settled();
    expectOneRecord(s, 'cancelled');
  });
});

describe('a stream object dropped without being read is ended by garbage collection, as cancelled', () => {
  // A server per test: its connection count must start at 0.
  let server: ByteServer;
  beforeEach(async () => {
    server = await startByteServer();
  });
  afterEach(() => server.close());

  /** Over 64 KiB of events and [DONE]: more than the tap reads ahead, so the body is not complete when dropped. */
  const BIG = [Array.from({ length: 300 }, (_, i) => CHUNK(`${i} ${'x'.repeat(900)}`)).join(''), 'data: [DONE]\n\n'];

  /** Creates a stream, drops it, and collects garbage; returns whether the stream object is gone. */
  async function dropStream(client: OpenAI, readOne = false): Promise<boolean> {
    const ref = await (async () => {
      const stream = await client.chat.completions.create(STREAM);
      if (readOne) await stream[Symbol.asyncIterator]().next();
      return new WeakRef(stream);
    })();
    await sleep(100); // the tap reads what it may
    await collectGarbage();
    return ref.deref() === undefined;
  }

  it('a stream larger than the read-ahead, never read: cancelled after GC', async () => {
    server.handle(() => ({ writes: BIG }));
    expect(await dropStream(instrument(quietClient(server.baseURL), { meterProvider: h.meterProvider }))).toBe(true);
    expectOneRecord(await settled(), 'cancelled');
  });

  it('a stream larger than the read-ahead, never read: its connection is released after GC, as without inferometer', async () => {
    // undici closes the connection of a collected, unread body from its own finalizer, on the
    // GC's schedule (and Node 22's undici later than Node 24's): the bare SDK is the yardstick.
    server.handle(() => ({ writes: BIG }));
    expect(await dropStream(quietClient(server.baseURL))).toBe(true);
    const bare = await openConnections(server);
    expect(await dropStream(instrument(quietClient(server.baseURL), { meterProvider: h.meterProvider }))).toBe(true);
    expect(await openConnections(server), `through inferometer (the bare SDK left ${bare})`).toBeLessThanOrEqual(bare);
  });

  it('a stream whose server stalls, never read: cancelled after GC, and its connection released', async () => {
    server.handle(() => ({ writes: [CHUNK('a')], end: 'hang' }));
    expect(await dropStream(instrument(quietClient(server.baseURL), { meterProvider: h.meterProvider }))).toBe(true);
    const s = await until(() => h.collect(), (snap) => snap.sum('inferometer.requests') >= 1);
    expect(outcomes(s)).toEqual({ cancelled: 1 });
    expect(s.sum('inferometer.requests.active')).toBe(0);
    // Released where the runtime closes a cancelled body's connection (Node 24); Node 22's undici
    // keeps it for a while, with or without inferometer.
    if (await cancelClosesConnections()) expect(await openConnections(server)).toBe(0);
  });

  it('a stream whose server stalls, left after its first chunk: in flight while its connection lives (as without inferometer), ended when it closes', async () => {
    // undici never cancels a body that was read from (it may still be in use elsewhere), and the
    // SDK's abort listener keeps the read stream reachable from the request: the bare SDK keeps
    // this connection open too. inferometer keeps the request in flight for as long, and ends it
    // when the connection goes.
    const stalling = await startByteServer();
    stalling.handle(() => ({ writes: [CHUNK('a'), CHUNK('b')], end: 'hang' }));
    expect(await dropStream(instrument(quietClient(stalling.baseURL), { meterProvider: h.meterProvider }), true)).toBe(true);
    await sleep(50);
    expect((await h.collect()).sum('inferometer.requests.active')).toBe(1);
    await stalling.close();
    const s = await settled();
    expect(s.sum('inferometer.requests')).toBe(1);
    expect(s.sum('inferometer.requests.active')).toBe(0);
  });
});

describe('the telemetry side is slow or broken', () => {
  it('an exporter whose export takes seconds does not slow the app: calls take as long as without inferometer, and their records arrive', async () => {
    const exported: ResourceMetrics[] = [];
    // The export is held until the test lets it go: however slow the machine, every metered call
    // below runs while an export is under way.
    let release: (() => void) | undefined;
    let holding = true;
    const slow: PushMetricExporter = {
      export(metrics, done) {
        exported.push(metrics);
        if (holding) release = () => done({ code: 0 });
        else done({ code: 0 });
      },
      forceFlush: async () => {},
      shutdown: async () => {},
    };
    const reader = new PeriodicExportingMetricReader({ exporter: slow, exportIntervalMillis: 60_000, exportTimeoutMillis: 30_000 });
    const meterProvider = new MeterProvider({ readers: [reader] });
    const timed = async (client: OpenAI) => {
      const start = performance.now();
      for (let i = 0; i < 10; i++) for await (const _ of await client.chat.completions.create(STREAM));
      return performance.now() - start;
    };
    h.server.setFallback({ kind: 'chat-stream', chunks: ['a', 'b', 'c'] });
    const client = instrument(h.bare(), { meterProvider });
    for await (const _ of await client.chat.completions.create(STREAM)); // one record, so that there is something to export
    const firstExport = reader.forceFlush();
    await sleep(10);
    expect(release).toBeDefined();
    const bare = await timed(h.bare());
    const metered = await timed(client);
    expect(metered).toBeLessThan(bare * 2 + 100);
    await sleep(1000); // the export takes seconds
    holding = false;
    release!();
    await firstExport;
    await reader.forceFlush();
    const requests = exported.at(-1)!.scopeMetrics.flatMap((m) => m.metrics).find((m) => m.descriptor.name === 'inferometer.requests');
    expect(requests?.dataPoints.reduce((n, p) => n + (p.value as number), 0)).toBe(11);
    await meterProvider.shutdown();
  });

  it('an exporter that throws leaves every call working and counted', async () => {
    const broken: PushMetricExporter = {
      export() {
        throw new Error('exporter exploded');
      },
      forceFlush: async () => {},
      shutdown: async () => {},
    };
    const reader = new PeriodicExportingMetricReader({ exporter: broken, exportIntervalMillis: 50 });
    const meterProvider = new MeterProvider({ readers: [reader] });
    h.server.setFallback({ kind: 'chat-stream', chunks: ['a'] });
    const client = instrument(h.bare(), { meterProvider });
    for (let i = 0; i < 5; i++) {
      const seen = [];
      for await (const c of await client.chat.completions.create(STREAM)) seen.push(c);
      expect(seen.length).toBeGreaterThan(0);
      await sleep(30);
    }
    await meterProvider.shutdown().catch(() => undefined);
  });
});

describe('a price table with nonsense values is rejected at set-up, with a message that names the field', () => {
  const client = () => new OpenAI({ apiKey: 'k', baseURL: 'http://127.0.0.1:9/v1' });
  it.each([
    ['an infinite price', { m: { input: Number.POSITIVE_INFINITY, output: 1 } }, '`prices["m"].input` to be a number from 0 to 100000'],
    ['a negative infinite price', { m: { input: 1, output: Number.NEGATIVE_INFINITY } }, '`prices["m"].output` to be a number from 0 to 100000'],
    ['a missing output price', { m: { input: 1 } }, '`prices["m"].output` to be a number from 0 to 100000'],
    ['a price given as a string', { m: { input: '0.15', output: 1 } }, '`prices["m"].input` to be a number from 0 to 100000'],
    ['a negative cached-input price', { m: { input: 1, output: 1, cachedInput: -0.5 } }, '`prices["m"].cachedInput` to be a number from 0 to 100000'],
    ['an entry that is null', { m: null }, '`prices["m"]` to be an object { input, output, cachedInput? }'],
    ['an entry that is a bare number', { m: 0.15 }, '`prices["m"]` to be an object { input, output, cachedInput? }'],
    ['a table that is a string', 'gpt-4o: 2.5', '`prices` to be an object of model name -> { input, output, cachedInput? }'],
  ])('%s', (_name, prices, message) => {
    expect(() => instrument(client(), { prices: prices as never })).toThrow(InferometerConfigError);
    expect(() => instrument(client(), { prices: prices as never })).toThrow(message);
  });

  it('a price so large that a request\'s cost overflows to Infinity (and poisons the cost counter for good)', () => {
    expect(() => instrument(client(), { prices: { m: { input: Number.MAX_VALUE, output: 1 } } })).toThrow(InferometerConfigError);
  });

  it('a misspelt field (`cached_input`), which would otherwise be ignored and price cached tokens at the input price', () => {
    expect(() => instrument(client(), { prices: { m: { input: 1, output: 2, cached_input: 0.5 } as never } })).toThrow(InferometerConfigError);
  });
});

describe('usage injection is not fooled', () => {
  /** The 400 OpenAI gives for a bad `stream_options` member that is not `include_usage`. */
  const badObfuscation = {
    kind: 'json' as const,
    status: 400,
    body: { error: { message: "Invalid type for 'stream_options.include_obfuscation': expected a boolean, but got a string instead.", type: 'invalid_request_error', param: 'stream_options.include_obfuscation', code: 'invalid_type' } },
  };
  const appParams = { ...STREAM, stream_options: { include_obfuscation: 'yes' as unknown as boolean } };

  it('a 400 about the app\'s own invalid stream_options member is returned as it is, after one request, not resent', async () => {
    h.server.setFallback(badObfuscation);
    const bare = await thrown(() => h.bare().chat.completions.create(appParams));
    const sentByBare = h.server.requests.length;
    const metered = await thrown(() => h.client().chat.completions.create(appParams));
    expect(metered).toBeInstanceOf(OpenAI.BadRequestError);
    expect((metered as Error).message).toBe((bare as Error).message);
    expect(h.server.requests.length - sentByBare).toBe(1);
    expectOneRecord(await settled(), 'error:400');
  });

  it('a 400 about the app\'s own invalid stream_options member does not stop inferometer asking that provider for usage', async () => {
    const client = h.client();
    h.server.enqueue(badObfuscation);
    await thrown(() => client.chat.completions.create(appParams));
    h.server.enqueue({ kind: 'chat-stream', chunks: ['a'], usage: { input: 9, output: 1 } });
    const before = h.server.requests.length;
    for await (const _ of await client.chat.completions.create(STREAM));
    expect(h.server.requests[before]!.body).toMatchObject({ stream_options: { include_usage: true } });
    const s = await h.finished(2);
    expect(s.histogram('gen_ai.client.token.usage', { 'gen_ai.token.type': 'input' } as Attributes).sum).toBe(9);
  });

  it('default mode: a stream served with a content type in capitals (`Text/Event-Stream`) still hides the injected usage chunk', async () => {
    const script = { kind: 'chat-stream' as const, chunks: ['a', 'b'], headers: { 'content-type': 'Text/Event-Stream; charset=utf-8' } };
    h.server.enqueue(script, script);
    const bare = await appView(async () => h.bare().chat.completions.create(STREAM));
    const metered = await appView(async () => h.client().chat.completions.create(STREAM));
    expect(metered.items.length).toBe(bare.items.length);
    expect(metered.items.some((c) => (c as { usage?: unknown }).usage !== undefined)).toBe(false);
    expect((await settled()).histogram('inferometer.time_to_first_token').count).toBe(1);
  });

  it('default mode: a stream a proxy serves as `text/plain` (the SDK parses it as SSE all the same) still hides the injected usage chunk', async () => {
    const script = { kind: 'chat-stream' as const, chunks: ['a', 'b'], headers: { 'content-type': 'text/plain; charset=utf-8' } };
    h.server.enqueue(script, script);
    const bare = await appView(async () => h.bare().chat.completions.create(STREAM));
    const metered = await appView(async () => h.client().chat.completions.create(STREAM));
    expect(bare.error).toBeUndefined();
    expect(metered.items.length).toBe(bare.items.length);
    expect(metered.items.some((c) => (c as { choices: unknown[] }).choices.length === 0)).toBe(false);
  });
});
