import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { ChatAnthropic } from '@langchain/anthropic';
import { ChatOpenAI } from '@langchain/openai';
import { generateText, stepCountIs, streamText, tool } from 'ai';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InferometerConfigError, instrument, meteredFetch, withWorkload } from '../src/index.js';
import { outcomes } from './robustness/support.ts';
import { useHarness } from './support/harness.ts';
import { collectUntil } from './support/metrics.ts';

/*
 * The frameworks apps are built on retry above fetch: the Vercel AI SDK (`maxRetries`) and
 * LangChain (its AsyncCaller, with the SDK's own retries off). Under meteredFetch() a retry is an
 * attempt of the request it repeats, timed from the first attempt; a multi-step call is several
 * requests; a call nobody retries is recorded as it failed, once its retry window has passed.
 */

const h = useHarness();
const ms = (s: number) => s * 1000;
const fetch = () => meteredFetch({ meterProvider: h.meterProvider });
const openai = () => createOpenAI({ baseURL: h.server.baseURL, apiKey: 'k', fetch: fetch() });
const RATE_LIMITED = { kind: 'json' as const, status: 429, headers: { 'retry-after-ms': '40' } };

describe('the Vercel AI SDK', () => {
  it('sees a 429 then a success of one generateText as one request of two attempts', async () => {
    h.server.enqueue(RATE_LIMITED, { kind: 'json', content: 'Hello' });
    const { text } = await generateText({ model: openai().chat('gpt-4o-mini'), prompt: 'hi', maxRetries: 2 });
    expect(text).toBe('Hello');
    const s = await h.finished();
    expect(outcomes(s)).toEqual({ success: 1 });
    expect(s.sum('inferometer.attempts')).toBe(2);
    expect(s.sum('inferometer.attempts', { 'http.response.status_code': 429 })).toBe(1);
  });

  it('times streamText from its first attempt: TTFT includes the retry wait', async () => {
    h.server.enqueue(RATE_LIMITED, { kind: 'chat-stream', ttftMs: 20, chunks: ['Hel', 'lo'] });
    const result = streamText({ model: openai().chat('gpt-4o-mini'), prompt: 'hi', maxRetries: 2 });
    expect(await result.text).toBe('Hello');
    const s = await h.finished();
    expect(outcomes(s)).toEqual({ success: 1 });
    expect(s.sum('inferometer.attempts')).toBe(2);
    expect(ms(s.histogram('inferometer.time_to_first_token').sum)).toBeGreaterThanOrEqual(55);
  });

  it('sees the retries of an Anthropic provider call as attempts too', async () => {
    h.server.enqueue({ kind: 'json', status: 529, headers: { 'retry-after-ms': '10' } }, { kind: 'anthropic-stream', blocks: [{ type: 'text', chunks: ['ok'] }] });
    const anthropic = createAnthropic({ baseURL: `${h.server.origin}/v1`, apiKey: 'k', fetch: fetch() });
    const result = streamText({ model: anthropic('claude-haiku-4-5'), prompt: 'hi', maxRetries: 1 });
    expect(await result.text).toBe('ok');
    const s = await h.finished();
    expect(outcomes(s)).toEqual({ success: 1 });
    expect(s.sum('inferometer.attempts', { 'http.response.status_code': 529 })).toBe(1);
  });

  it('records a multi-step call (a tool, then the answer) as two requests', async () => {
    h.server.enqueue(
      { kind: 'chat-stream', toolCall: { name: 'weather' }, chunks: ['{"city":', '"Paris"}'] },
      { kind: 'chat-stream', chunks: ['Sunny'] },
    );
    const result = streamText({
      model: openai().chat('gpt-4o-mini'),
      prompt: 'Weather in Paris?',
      tools: { weather: tool({ inputSchema: z.object({ city: z.string() }), execute: async () => 'sunny' }) },
      stopWhen: stepCountIs(2),
    });
    expect(await result.text).toBe('Sunny');
    const s = await h.finished(2);
    expect(outcomes(s)).toEqual({ success: 2 });
    expect(s.sum('inferometer.attempts')).toBe(2);
  });

  it('records a failure nobody retries once its retry window has passed, at the time it failed', async () => {
    h.server.enqueue({ kind: 'json', status: 429, headers: { 'retry-after-ms': '0' } });
    const started = performance.now();
    await generateText({ model: openai().chat('gpt-4o-mini'), prompt: 'hi', maxRetries: 0 }).catch(() => undefined);
    expect((await h.collect()).sum('inferometer.requests.active')).toBe(1);
    const s = await collectUntil({ collect: () => h.collect() }, (x) => x.sum('inferometer.requests') >= 1, 6000);
    expect(performance.now() - started).toBeGreaterThanOrEqual(2900);
    expect(outcomes(s)).toEqual({ 'error:429': 1 });
    expect(s.sum('inferometer.requests.active')).toBe(0);
    expect(ms(s.histogram('gen_ai.client.operation.duration').sum)).toBeLessThan(500);
  });

  it('names the workload in the AI SDK\'s own terms: its per-call headers, or a withWorkload scope', async () => {
    h.server.enqueue({ kind: 'json' }, { kind: 'json' });
    await generateText({ model: openai().chat('gpt-4o-mini'), prompt: 'hi', headers: { 'x-inferometer-workload': 'chat' } });
    await withWorkload('batch', () => generateText({ model: openai().chat('gpt-4o-mini'), prompt: 'hi' }));
    const s = await h.finished(2);
    expect(s.sum('inferometer.requests', { 'workload.class': 'chat' })).toBe(1);
    expect(s.sum('inferometer.requests', { 'workload.class': 'batch' })).toBe(1);
    expect(h.server.requests[0]!.headers['x-inferometer-workload']).toBeUndefined();
  });
});

describe('LangChain.js', () => {
  const chatOpenAI = (maxRetries = 2) =>
    new ChatOpenAI({ model: 'gpt-4o-mini', apiKey: 'k', maxRetries, configuration: { baseURL: h.server.baseURL, fetch: fetch() } });

  it('ChatOpenAI through configuration.fetch: invoke, stream and batch are metered', async () => {
    h.server.setFallback((req) => ((req.body as { stream?: boolean }).stream ? { kind: 'chat-stream', chunks: ['Hi'] } : { kind: 'json', content: 'Hi' }));
    const llm = chatOpenAI();
    expect((await llm.invoke('hello')).content).toBe('Hi');
    let streamed = '';
    for await (const chunk of await llm.stream('hello')) streamed += String(chunk.content);
    expect(streamed).toBe('Hi');
    expect(await llm.batch(['a', 'b'])).toHaveLength(2);
    const s = await h.finished(4);
    expect(outcomes(s)).toEqual({ success: 4 });
    expect(s.histogram('inferometer.time_to_first_token').count).toBe(1);
  });

  it("sees LangChain's own retry (its AsyncCaller; the SDK's retries are off) as an attempt of one request", async () => {
    // (LangChain retries a 429 only with a short retry-after; a 503 always.)
    h.server.enqueue({ kind: 'json', status: 503 }, { kind: 'json', content: 'Hi' });
    expect((await chatOpenAI(2).invoke('hello')).content).toBe('Hi');
    const s = await h.finished();
    expect(outcomes(s)).toEqual({ success: 1 });
    expect(s.sum('inferometer.attempts')).toBe(2);
  });

  it("sees LangChain's retry of a 429 that says when to come back (retry-after) as an attempt of one request", async () => {
    h.server.enqueue({ kind: 'json', status: 429, headers: { 'retry-after': '0' } }, { kind: 'json', content: 'Hi' });
    expect((await chatOpenAI(2).invoke('hello')).content).toBe('Hi');
    const s = await h.finished();
    expect(outcomes(s)).toEqual({ success: 1 });
    expect(s.sum('inferometer.attempts', { 'http.response.status_code': 429 })).toBe(1);
  });

  it('ChatAnthropic through clientOptions.fetch, its retries as attempts', async () => {
    h.server.enqueue({ kind: 'json', status: 529, headers: { 'retry-after-ms': '10' } }, { kind: 'anthropic-stream', blocks: [{ type: 'text', chunks: ['Hi'] }] });
    const llm = new ChatAnthropic({ model: 'claude-haiku-4-5', apiKey: 'k', maxRetries: 2, anthropicApiUrl: h.server.origin, clientOptions: { fetch: fetch() } });
    let streamed = '';
    for await (const chunk of await llm.stream('hello')) streamed += String(chunk.content);
    expect(streamed).toBe('Hi');
    const s = await h.finished();
    expect(outcomes(s)).toEqual({ success: 1 });
    expect(s.sum('inferometer.attempts')).toBe(2);
  });

  it('refuses a LangChain model given to instrument(), saying how to meter it (setting its client is ignored)', () => {
    expect(() => instrument(chatOpenAI())).toThrow(InferometerConfigError);
    expect(() => instrument(chatOpenAI())).toThrow(/configuration: \{ fetch: meteredFetch\(\) \}/);
  });
});
