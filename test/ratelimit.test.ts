import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { instrument } from '../src/index.js';
import { captureDiag } from './robustness/support.ts';
import { CHAT, useHarness } from './support/harness.ts';
import type { Snapshot } from './support/metrics.ts';

/*
 * Signals an SRE acts on, read from the response headers once per response: rate-limit headroom
 * in each provider's dialect (last value seen, dropped once stale), retry-after, the provider's
 * own processing time, and the time to the response headers.
 */

const h = useHarness();
const logs = captureDiag();
const ms = (s: number) => s * 1000;

/** gauge value by resource, from one collection. */
function gauge(s: Snapshot, name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of s.points(name)) out[String(p.attributes['inferometer.ratelimit.resource'])] = p.value as number;
  return out;
}

const OPENAI_HEADERS = {
  'x-ratelimit-limit-requests': '500',
  'x-ratelimit-remaining-requests': '499',
  'x-ratelimit-reset-requests': '120ms',
  'x-ratelimit-limit-tokens': '200000',
  'x-ratelimit-remaining-tokens': '181234',
  'x-ratelimit-reset-tokens': '6m0s',
};

describe('rate-limit headroom', () => {
  it('reads OpenAI-style headers (also Groq): remaining, limit and seconds to reset per resource, keyed by provider, server and model, not workload', async () => {
    h.server.enqueue({ kind: 'chat-stream', headers: OPENAI_HEADERS });
    for await (const _ of await h.client({ workload: 'chat' }).chat.completions.create({ ...CHAT, stream: true }));
    const s = await h.finished();
    expect(gauge(s, 'inferometer.ratelimit.remaining')).toEqual({ requests: 499, tokens: 181234 });
    expect(gauge(s, 'inferometer.ratelimit.limit')).toEqual({ requests: 500, tokens: 200000 });
    const reset = gauge(s, 'inferometer.ratelimit.reset');
    expect(reset['tokens']).toBeGreaterThan(355);
    expect(reset['tokens']).toBeLessThanOrEqual(360);
    const point = s.points('inferometer.ratelimit.remaining')[0]!;
    expect(point.attributes).toEqual({
      'gen_ai.provider.name': 'openai',
      'server.address': '127.0.0.1',
      'gen_ai.request.model': 'gpt-4o-mini',
      'inferometer.ratelimit.resource': 'requests',
    });
  });

  it('never shows a window older than its reset: once the window resets, the quota reads refilled', async () => {
    h.server.enqueue({ kind: 'json', headers: OPENAI_HEADERS });
    await h.client().chat.completions.create(CHAT);
    expect(gauge(await h.finished(), 'inferometer.ratelimit.remaining')).toEqual({ requests: 499, tokens: 181234 });
    await new Promise((r) => setTimeout(r, 200));
    // The requests window (120 ms) has reset: full again, 0 s to go; the tokens window (6 minutes) has not.
    const s = await h.collect();
    expect(gauge(s, 'inferometer.ratelimit.remaining')).toEqual({ requests: 500, tokens: 181234 });
    expect(gauge(s, 'inferometer.ratelimit.reset')['requests']).toBe(0);
  });

  it("takes Azure's placeholders (-1, and 0 of an unknown limit) for unknown: no metric for them", async () => {
    h.server.enqueue({
      kind: 'json',
      headers: { 'x-ratelimit-limit-requests': '0', 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-remaining-tokens': '-1', 'x-ratelimit-limit-tokens': '-1' },
    });
    await h.client().chat.completions.create(CHAT);
    const s = await h.finished();
    expect(s.points('inferometer.ratelimit.remaining')).toEqual([]);
    expect(s.points('inferometer.ratelimit.limit')).toEqual([]);
  });

  it("reads Anthropic's dialect: requests, tokens, input and output tokens, resets as RFC 3339 times", async () => {
    const inAMinute = new Date(Date.now() + 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
    h.server.enqueue({
      kind: 'anthropic-stream',
      headers: {
        'anthropic-ratelimit-requests-limit': '50',
        'anthropic-ratelimit-requests-remaining': '49',
        'anthropic-ratelimit-requests-reset': inAMinute,
        'anthropic-ratelimit-input-tokens-limit': '30000',
        'anthropic-ratelimit-input-tokens-remaining': '29000',
        'anthropic-ratelimit-input-tokens-reset': inAMinute,
        'anthropic-ratelimit-output-tokens-limit': '8000',
        'anthropic-ratelimit-output-tokens-remaining': '7990',
        'anthropic-ratelimit-output-tokens-reset': inAMinute,
      },
    });
    const client = instrument(new Anthropic({ baseURL: h.server.origin, apiKey: 'k', maxRetries: 0 }), { meterProvider: h.meterProvider });
    for await (const _ of await client.messages.create({ model: 'claude-haiku-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }], stream: true }));
    const s = await h.finished();
    expect(gauge(s, 'inferometer.ratelimit.remaining')).toEqual({ requests: 49, input_tokens: 29000, output_tokens: 7990 });
    const reset = gauge(s, 'inferometer.ratelimit.reset');
    expect(reset['requests']).toBeGreaterThan(55);
    expect(reset['requests']).toBeLessThanOrEqual(60);
    expect(s.points('inferometer.ratelimit.limit', { 'gen_ai.provider.name': 'anthropic' })).toHaveLength(3);
  });

  it('records nothing for a response without rate-limit headers', async () => {
    h.server.enqueue({ kind: 'json' });
    await h.client().chat.completions.create(CHAT);
    const s = await h.finished();
    expect(s.points('inferometer.ratelimit.remaining')).toEqual([]);
    expect(s.points('inferometer.ratelimit.reset')).toEqual([]);
  });

  it('records nothing for a garbage value, warns once through diag, and the call goes on', async () => {
    const garbage = { 'x-ratelimit-remaining-requests': 'lots', 'x-ratelimit-reset-requests': 'soon' };
    h.server.enqueue({ kind: 'json', headers: garbage }, { kind: 'json', headers: garbage });
    await h.client().chat.completions.create(CHAT);
    await h.client().chat.completions.create(CHAT);
    const s = await h.finished(2);
    expect(s.sum('inferometer.requests', { 'inferometer.outcome': 'success' })).toBe(2);
    expect(s.points('inferometer.ratelimit.remaining')).toEqual([]);
    const warnings = logs.filter((l) => l.includes('x-ratelimit-remaining-requests'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).not.toContain('lots');
  });
});

describe('retry-after and the provider\'s own timing', () => {
  it('records the wait a 429 asks for (retry-after-ms, retry-after)', async () => {
    h.server.enqueue({ kind: 'json', status: 429, headers: { 'retry-after-ms': '250' } }, { kind: 'json', status: 429, headers: { 'retry-after': '2' } });
    await h.client().chat.completions.create(CHAT).catch(() => undefined);
    await h.client().chat.completions.create(CHAT).catch(() => undefined);
    const s = await h.finished(2);
    const waits = s.histogram('inferometer.retry_after');
    expect(waits.count).toBe(2);
    expect(waits.min).toBe(0.25);
    expect(waits.max).toBe(2);
  });

  it("records OpenAI's openai-processing-ms as the provider's processing time", async () => {
    h.server.enqueue({ kind: 'json', headers: { 'openai-processing-ms': '432' } });
    await h.client().chat.completions.create(CHAT);
    const s = await h.finished();
    expect(s.histogram('inferometer.provider.processing_time').sum).toBe(0.432);
  });
});

describe('time to response headers', () => {
  it('is the provider answering, apart from prefill: within a few ms of the server\'s own header write, with the attributes of TTFT', async () => {
    h.server.enqueue({ kind: 'chat-stream', headersMs: 80, ttftMs: 200, chunks: ['a', 'b'] });
    for await (const _ of await h.client({ workload: 'chat' }).chat.completions.create({ ...CHAT, stream: true }));
    const s = await h.finished();
    const headers = s.histogram('inferometer.time_to_response_headers', { 'workload.class': 'chat' });
    const truth = h.server.timeline(0).headersAt! - h.server.requests[0]!.receivedAt;
    expect(headers.count).toBe(1);
    expect(ms(headers.sum)).toBeGreaterThanOrEqual(truth);
    expect(ms(headers.sum) - truth).toBeLessThan(15);
    expect(ms(s.histogram('inferometer.time_to_first_token').sum) - ms(headers.sum)).toBeGreaterThanOrEqual(110);
    const keys = (name: string) => Object.keys(s.points(name)[0]!.attributes).sort();
    expect(keys('inferometer.time_to_response_headers')).toEqual(keys('inferometer.time_to_first_token'));
  });
});
