import { createAnthropic } from '@ai-sdk/anthropic';
import Anthropic from '@anthropic-ai/sdk';
import { streamText } from 'ai';
import { describe, expect, it } from 'vitest';
import { instrument, meteredFetch } from '../src/index.js';
import { outcomes } from './robustness/support.ts';
import { useHarness } from './support/harness.ts';

/*
 * Anthropic Messages through the real @anthropic-ai/sdk under instrument(), and through the Vercel
 * AI SDK's Anthropic provider under meteredFetch(), over real HTTP: what is measured and what
 * the app sees.
 */

const h = useHarness();
const ms = (s: number) => s * 1000;
const ASK = { model: 'claude-sonnet-4-5', max_tokens: 256, messages: [{ role: 'user' as const, content: 'Say hello' }] };

const anthropic = (options: ConstructorParameters<typeof Anthropic>[0] = {}) => new Anthropic({ baseURL: h.server.origin, apiKey: 'sk-ant-secret', maxRetries: 0, ...options });
const metered = (options: ConstructorParameters<typeof Anthropic>[0] = {}) => instrument(anthropic(options), { meterProvider: h.meterProvider, workload: 'agent' });

async function drain(stream: AsyncIterable<unknown>): Promise<unknown[]> {
  const events: unknown[] = [];
  for await (const e of stream) events.push(e);
  return events;
}

describe('instrument(new Anthropic())', () => {
  it('times the first token from the first text delta, not message_start or a ping, and every gap against the server\'s writes', async () => {
    h.server.enqueue({ kind: 'anthropic-stream', headersMs: 5, ttftMs: 120, gapMs: [30, 10, 50], ping: 'first', blocks: [{ type: 'text', chunks: ['a', 'b', 'c', 'd'] }] });
    await drain(await metered().messages.create({ ...ASK, stream: true }));
    const s = await h.finished();
    const ttft = ms(s.histogram('inferometer.time_to_first_token').sum);
    expect(ttft).toBeGreaterThanOrEqual(118);
    expect(ttft).toBeLessThan(250); // a shared 2-core machine: far below the 2 s a late reader would show
    // message_start went out with the headers: the first chunk, long before the first token.
    expect(ms(s.histogram('gen_ai.client.operation.time_to_first_chunk').sum)).toBeLessThan(40);
    const gaps = s.histogram('gen_ai.client.operation.time_per_output_chunk');
    expect(gaps.count).toBe(3);
    const written = h.server.timeline(0).firstOutputAt!;
    expect(ms(gaps.max)).toBeGreaterThanOrEqual(45);
    expect(ms(gaps.sum)).toBeGreaterThanOrEqual(85);
    expect(written).toBeGreaterThan(0);
  });

  it('records chat on anthropic, the response model, and input tokens with cache reads and writes added', async () => {
    h.server.enqueue({
      kind: 'anthropic-stream',
      model: 'claude-sonnet-4-5-20250929',
      startUsage: { input_tokens: 20, cache_read_input_tokens: 1000, cache_creation_input_tokens: 300 },
      usage: { input_tokens: 20, cache_read_input_tokens: 1000, cache_creation_input_tokens: 300, output_tokens: 7 },
    });
    await drain(await metered().messages.create({ ...ASK, stream: true }));
    const s = await h.finished();
    const attrs = { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'anthropic', 'gen_ai.request.model': 'claude-sonnet-4-5', 'gen_ai.response.model': 'claude-sonnet-4-5-20250929', 'workload.class': 'agent' };
    expect(s.sum('inferometer.requests', { ...attrs, 'inferometer.outcome': 'success' })).toBe(1);
    expect(s.histogram('gen_ai.client.token.usage', { 'gen_ai.token.type': 'input' }).sum).toBe(1320);
    expect(s.histogram('gen_ai.client.token.usage', { 'gen_ai.token.type': 'output' }).sum).toBe(7);
    // Priced from the built-in table: 20 at $3, 1000 cache reads at $0.30, 300 cache writes at $3.75, 7 out at $15.
    expect(s.sum('inferometer.cost')).toBeCloseTo((20 * 3 + 1000 * 0.3 + 300 * 3.75 + 7 * 15) / 1e6, 12);
  });

  it('returns the SDK\'s own objects: messages.stream() and its finalMessage() work as without inferometer', async () => {
    const script = { kind: 'anthropic-stream' as const, blocks: [{ type: 'thinking' as const, chunks: ['hm'], signature: 'sig' }, { type: 'text' as const, chunks: ['Hel', 'lo'] }] };
    h.server.enqueue(script, script);
    const bare = await anthropic().messages.stream(ASK).finalMessage();
    const stream = metered().messages.stream(ASK);
    const texts: string[] = [];
    stream.on('text', (t) => texts.push(t));
    const final = await stream.finalMessage();
    expect({ ...final, id: 'x' }).toEqual({ ...bare, id: 'x' }); // ids differ per response
    expect(texts).toEqual(['Hel', 'lo']);
    const s = await h.finished();
    expect(outcomes(s)).toEqual({ success: 1 });
    expect(s.histogram('gen_ai.client.operation.time_per_output_chunk').count).toBe(2);
  });

  it('sees the SDK\'s retries as attempts of one request: a 429, then a success', async () => {
    h.server.enqueue({ kind: 'json', status: 429, headers: { 'retry-after-ms': '20' } }, { kind: 'anthropic-stream' });
    await drain(await metered({ maxRetries: 2 }).messages.create({ ...ASK, stream: true }));
    const s = await h.finished();
    expect(outcomes(s)).toEqual({ success: 1 });
    expect(s.sum('inferometer.attempts')).toBe(2);
    expect(s.sum('inferometer.attempts', { 'http.response.status_code': 429 })).toBe(1);
    expect(ms(s.histogram('inferometer.time_to_first_token').sum)).toBeGreaterThanOrEqual(20);
  });

  it('records an overloaded 529 after the retries as one error of type 529', async () => {
    h.server.setFallback({ kind: 'json', status: 529, headers: { 'retry-after-ms': '1' } });
    const error = await metered({ maxRetries: 1 }).messages.create(ASK).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    const s = await h.finished();
    expect(outcomes(s)).toEqual({ 'error:529': 1 });
    expect(s.sum('inferometer.attempts', { 'http.response.status_code': 529 })).toBe(2);
  });

  it('records an in-stream `event: error` as an error of its type, and the app gets the SDK\'s own error', async () => {
    const script = { kind: 'anthropic-stream' as const, errorAfter: { chunks: 2, type: 'overloaded_error' } };
    h.server.enqueue(script, script);
    const caught = async (client: Anthropic) => (async () => drain(await client.messages.create({ ...ASK, stream: true })))().then(() => undefined, (e: unknown) => (e as Error).constructor.name);
    const bare = await caught(anthropic());
    expect(await caught(metered())).toBe(bare);
    expect(bare).toBe('APIError');
    const s = await h.finished();
    expect(outcomes(s)).toEqual({ 'error:overloaded_error': 1 });
  });

  it('records a non-streamed message with its usage and duration, and no time to first token', async () => {
    h.server.enqueue({ kind: 'json', model: 'claude-haiku-4-5-20251001', usage: { input: 30, output: 9, cachedInput: 10 } });
    const message = await metered().messages.create(ASK);
    expect(message.usage.output_tokens).toBe(9);
    const s = await h.finished();
    expect(outcomes(s)).toEqual({ success: 1 });
    expect(s.histogram('gen_ai.client.token.usage', { 'gen_ai.token.type': 'input' }).sum).toBe(30);
    expect(s.histogram('gen_ai.client.operation.duration').count).toBe(1);
    expect(s.histogram('inferometer.time_to_first_token').count).toBe(0);
  });

  it('records a break out of the stream as cancelled', async () => {
    h.server.enqueue({ kind: 'anthropic-stream', gapMs: 20, blocks: [{ type: 'text', chunks: ['a', 'b', 'c', 'd'] }] });
    for await (const event of await metered().messages.create({ ...ASK, stream: true })) if (event.type === 'content_block_delta') break;
    const s = await h.finished();
    expect(outcomes(s)).toEqual({ cancelled: 1 });
    expect(s.sum('inferometer.requests.active')).toBe(0);
  });

  it('never records the API key', async () => {
    h.server.enqueue({ kind: 'anthropic-stream' });
    await drain(await metered().messages.create({ ...ASK, stream: true }));
    const s = await h.finished();
    expect(JSON.stringify(s.metrics)).not.toContain('sk-ant-secret');
  });
});

describe('the Vercel AI SDK\'s Anthropic provider under meteredFetch()', () => {
  it('meters streamText: time to first token, tokens, the model', async () => {
    h.server.enqueue({ kind: 'anthropic-stream', ttftMs: 60, blocks: [{ type: 'text', chunks: ['Hel', 'lo'] }], usage: { output_tokens: 2 } });
    const provider = createAnthropic({ baseURL: `${h.server.origin}/v1`, apiKey: 'k', fetch: meteredFetch({ meterProvider: h.meterProvider }) });
    const result = streamText({ model: provider('claude-haiku-4-5'), prompt: 'hi', maxRetries: 0 });
    expect(await result.text).toBe('Hello');
    const s = await h.finished();
    expect(outcomes(s)).toEqual({ success: 1 });
    expect(s.points('inferometer.requests', { 'gen_ai.provider.name': 'anthropic', 'gen_ai.request.model': 'claude-haiku-4-5' })).toHaveLength(1);
    expect(ms(s.histogram('inferometer.time_to_first_token').sum)).toBeGreaterThanOrEqual(58);
    expect(s.histogram('gen_ai.client.token.usage', { 'gen_ai.token.type': 'output' }).sum).toBe(2);
  });
});
