import { createServer } from 'node:net';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { instrument } from '../src/index.js';
import { CHAT, useHarness } from './support/harness.ts';
import { thrown } from './robustness/support.ts';
import { createTestMeter } from './support/metrics.ts';

const h = useHarness();


describe('HTTP errors and retries', () => {
  it('counts a 429 answered by the SDK retry as one successful request of two attempts, timed from the first', async () => {
    h.server.enqueue({ kind: 'json', status: 429, headers: { 'retry-after-ms': '30' } }, { kind: 'chat-stream', ttftMs: 10 });
    const stream = await h.client({}, { maxRetries: 2 }).chat.completions.create({ ...CHAT, stream: true });
    for await (const _ of stream);
    const s = await h.finished();
    expect(s.sum('inferometer.requests')).toBe(1);
    expect(s.sum('inferometer.requests', { 'inferometer.outcome': 'success' })).toBe(1);
    expect(s.sum('inferometer.attempts')).toBe(2);
    expect(s.sum('inferometer.attempts', { 'http.response.status_code': 429 })).toBe(1);
    expect(s.sum('inferometer.attempts', { 'http.response.status_code': 200 })).toBe(1);
    // TTFT includes the wait for the retry: it is what the user felt
    expect(s.histogram('inferometer.time_to_first_token').sum).toBeGreaterThanOrEqual(0.035);
    expect(s.sum('inferometer.requests.active')).toBe(0);
  });

  it('records a 429 without retries as an error of type "429"', async () => {
    h.server.enqueue({ kind: 'json', status: 429, headers: { 'retry-after': '0' } });
    const error = await thrown(() => h.client().chat.completions.create(CHAT));
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    const s = await h.finished();
    expect(s.sum('inferometer.requests', { 'inferometer.outcome': 'error', 'error.type': '429' })).toBe(1);
    expect(s.histogram('gen_ai.client.operation.duration', { 'error.type': '429' }).count).toBe(1);
    expect(s.sum('inferometer.requests.active')).toBe(0);
  });

  it('records 5xx after exhausted retries once, with every attempt counted', async () => {
    h.server.setFallback({ kind: 'json', status: 503, headers: { 'retry-after-ms': '1' } });
    const error = await thrown(() => h.client({}, { maxRetries: 2 }).chat.completions.create(CHAT));
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    const s = await h.finished();
    expect(s.sum('inferometer.requests')).toBe(1);
    expect(s.sum('inferometer.requests', { 'error.type': '503' })).toBe(1);
    expect(s.sum('inferometer.attempts', { 'http.response.status_code': 503 })).toBe(3);
  });

  it('records a 500 then success as success', async () => {
    h.server.enqueue({ kind: 'json', status: 500, headers: { 'retry-after-ms': '1' } }, { kind: 'json' });
    await h.client({}, { maxRetries: 1 }).chat.completions.create(CHAT);
    const s = await h.finished();
    expect(s.sum('inferometer.requests', { 'inferometer.outcome': 'success' })).toBe(1);
    expect(s.sum('inferometer.attempts')).toBe(2);
  });

  it('keeps retry-aware metering on a copy made with withOptions()', async () => {
    h.server.enqueue({ kind: 'json', status: 429, headers: { 'retry-after-ms': '1' } }, { kind: 'json' });
    await h.client().withOptions({ maxRetries: 1 }).chat.completions.create(CHAT);
    const s = await h.finished();
    expect(s.sum('inferometer.requests')).toBe(1);
    expect(s.sum('inferometer.requests', { 'inferometer.outcome': 'success' })).toBe(1);
    expect(s.sum('inferometer.attempts')).toBe(2);
  });

  it("links the SDK's retry to its request under a bare meteredFetch too: the retry repeats the request and says so (x-stainless-retry-count)", async () => {
    const { meteredFetch } = await import('../src/index.js');
    h.server.enqueue({ kind: 'json', status: 429, headers: { 'retry-after-ms': '1' } }, { kind: 'json' });
    const client = new OpenAI({ baseURL: h.server.baseURL, apiKey: 'k', maxRetries: 1, fetch: meteredFetch({ meterProvider: h.meterProvider }) });
    await client.chat.completions.create(CHAT);
    const s = await h.finished();
    expect(s.sum('inferometer.requests')).toBe(1);
    expect(s.sum('inferometer.requests', { 'inferometer.outcome': 'success' })).toBe(1);
    expect(s.sum('inferometer.attempts')).toBe(2);
  });
});

describe('transport failures', () => {
  it('records a timeout before headers as error.type "timeout"', async () => {
    h.server.enqueue({ kind: 'hang' });
    const error = await thrown(() => h.client({}, { timeout: 150 }).chat.completions.create(CHAT));
    expect(error).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    const s = await h.finished();
    expect(s.sum('inferometer.requests', { 'error.type': 'timeout' })).toBe(1);
    expect(s.sum('inferometer.requests.active')).toBe(0);
  });

  it('records connection refused as "connection_error"', async () => {
    const port = await freePort();
    const client = instrument(new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'k', maxRetries: 1 }), { meterProvider: h.meterProvider });
    const error = await thrown(() => client.chat.completions.create(CHAT));
    expect(error).toBeInstanceOf(OpenAI.APIConnectionError);
    const s = await h.finished();
    expect(s.sum('inferometer.requests', { 'error.type': 'connection_error' })).toBe(1);
    expect(s.sum('inferometer.attempts', { 'error.type': 'connection_error' })).toBe(2);
  });

  it('records a connection reset before headers as "connection_error"', async () => {
    h.server.enqueue({ kind: 'reset' });
    await thrown(() => h.client().chat.completions.create(CHAT));
    const s = await h.finished();
    expect(s.sum('inferometer.requests', { 'error.type': 'connection_error' })).toBe(1);
  });

  it('records a mid-stream disconnect as "stream_interrupted", and the app still gets its error', async () => {
    h.server.enqueue({ kind: 'chat-stream', chunks: ['a', 'b', 'c', 'd'], disconnectAfter: 2, gapMs: 5 });
    h.server.enqueue({ kind: 'chat-stream', chunks: ['a', 'b', 'c', 'd'], disconnectAfter: 2, gapMs: 5 });
    const seen = async (client: OpenAI) => {
      const out: string[] = [];
      const error = await thrown(async () => {
        for await (const c of await client.chat.completions.create({ ...CHAT, stream: true })) out.push(c.choices[0]?.delta.content ?? '');
      });
      return { out, error: error === undefined ? undefined : `${(error as Error).constructor.name}: ${(error as Error).message}` };
    };
    const bare = await seen(h.bare());
    const metered = await seen(h.client({ injectStreamUsage: false }));
    expect(metered).toEqual(bare);
    expect(bare.error).toBeDefined();
    const s = await h.finished();
    expect(s.sum('inferometer.requests', { 'error.type': 'stream_interrupted' })).toBe(1);
    // the chunks seen before the break are recorded, and their tokens estimated
    expect(s.points('gen_ai.client.token.usage', { 'inferometer.estimated': true, 'gen_ai.token.type': 'output' })).toHaveLength(1);
  });

  it('records an in-stream error event with the provider code as error.type', async () => {
    h.server.enqueue({ kind: 'chat-stream', chunks: ['a', 'b', 'c'], errorAfter: { chunks: 1, code: 'server_overloaded' } });
    const error = await thrown(async () => {
      for await (const _ of await h.client().chat.completions.create({ ...CHAT, stream: true }));
    });
    expect(error).toBeInstanceOf(OpenAI.APIError);
    const s = await h.finished();
    expect(s.sum('inferometer.requests', { 'error.type': 'server_overloaded' })).toBe(1);
  });
});

describe('the app gives up', () => {
  it('records an early break as cancelled, not as an error', async () => {
    h.server.enqueue({ kind: 'chat-stream', chunks: ['a', 'b', 'c', 'd'], gapMs: 20 });
    for await (const _ of await h.client().chat.completions.create({ ...CHAT, stream: true })) break;
    const s = await h.finished();
    expect(s.sum('inferometer.requests', { 'inferometer.outcome': 'cancelled' })).toBe(1);
    expect(s.sum('inferometer.requests.active')).toBe(0);
    // cancelled durations say nothing about the provider
    expect(s.histogram('gen_ai.client.operation.duration').count).toBe(0);
  });

  it('records an app abort of a stalled stream as cancelled, and the gauge returns to 0', async () => {
    h.server.enqueue({ kind: 'chat-stream', chunks: ['a', 'b', 'c'], stallAfter: 1 });
    const controller = new AbortController();
    const stream = await h.client().chat.completions.create({ ...CHAT, stream: true }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    await thrown(async () => {
      for await (const _ of stream);
    });
    const s = await h.finished();
    expect(s.sum('inferometer.requests', { 'inferometer.outcome': 'cancelled' })).toBe(1);
    expect(s.sum('inferometer.requests.active')).toBe(0);
  });

  it('records an abort before the headers as cancelled', async () => {
    h.server.enqueue({ kind: 'hang' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error = await thrown(() => h.client().chat.completions.create(CHAT, { signal: controller.signal }));
    expect(error).toBeInstanceOf(OpenAI.APIUserAbortError);
    const s = await h.finished();
    expect(s.sum('inferometer.requests', { 'inferometer.outcome': 'cancelled' })).toBe(1);
  });

  it('keeps the active gauge at the number of requests under way', async () => {
    h.server.enqueue({ kind: 'chat-stream', chunks: ['a'], ttftMs: 150 }, { kind: 'chat-stream', chunks: ['a'], ttftMs: 150 });
    const client = h.client();
    const streams = await Promise.all([1, 2].map(() => client.chat.completions.create({ ...CHAT, stream: true })));
    expect((await h.collect()).sum('inferometer.requests.active')).toBe(2);
    for (const stream of streams) for await (const _ of stream);
    const s = await h.finished(2);
    expect(s.sum('inferometer.requests.active')).toBe(0);
  });
});

describe('telemetry never reaches the app', () => {
  it('a meter whose instruments throw leaves every call working', async () => {
    const throwing = {
      getMeter() {
        return new Proxy({}, { get: () => () => new Proxy({}, { get: () => () => { throw new Error('meter exploded'); } }) });
      },
    };
    h.server.enqueue({ kind: 'chat-stream', chunks: ['a', 'b'] }, { kind: 'json', content: 'fine' }, { kind: 'json', status: 429 });
    const client = instrument(h.bare(), { meterProvider: throwing as never });
    const text: string[] = [];
    for await (const c of await client.chat.completions.create({ ...CHAT, stream: true })) text.push(c.choices[0]?.delta.content ?? '');
    expect(text.join('')).toBe('ab');
    expect((await client.chat.completions.create(CHAT)).choices[0]?.message.content).toBe('fine');
    expect(await thrown(() => client.chat.completions.create(CHAT))).toBeInstanceOf(OpenAI.RateLimitError);
  });

  it('a MeterProvider whose getMeter throws leaves every call working', async () => {
    const broken = { getMeter: () => { throw new Error('no meter'); } };
    h.server.enqueue({ kind: 'json', content: 'fine' });
    const client = instrument(h.bare(), { meterProvider: broken as never });
    expect((await client.chat.completions.create(CHAT)).choices[0]?.message.content).toBe('fine');
  });

  it('the global MeterProvider registered after instrument() is used', async () => {
    const { metrics } = await import('@opentelemetry/api');
    const client = instrument(h.bare());
    const meter = createTestMeter();
    metrics.setGlobalMeterProvider(meter.meterProvider);
    try {
      h.server.enqueue({ kind: 'json' });
      await client.chat.completions.create(CHAT);
      expect((await meter.collect()).sum('inferometer.requests')).toBe(1);
    } finally {
      metrics.disable();
      await meter.shutdown();
    }
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
