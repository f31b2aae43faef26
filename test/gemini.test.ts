import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { GoogleGenAI } from '@google/genai';
import { streamText } from 'ai';
import { describe, expect, it } from 'vitest';
import { meteredFetch } from '../src/index.js';
import { outcomes } from './robustness/support.ts';
import { useHarness } from './support/harness.ts';

/*
 * Gemini through the real @google/genai (its `httpOptions.fetch`) and the Vercel AI SDK's Google
 * provider, both under meteredFetch(), over real HTTP: the model from the URL, the stream's
 * cumulative usage, thoughts billed as output, errors inside a 200 stream.
 */

const h = useHarness();
const ms = (s: number) => s * 1000;

const genai = (options: { vertexai?: boolean } = {}) =>
  new GoogleGenAI({
    apiKey: 'AIza-secret',
    ...options,
    // @google/genai retries nothing unless given retryOptions: its failures need not wait for one.
    httpOptions: { baseUrl: h.server.origin, fetch: meteredFetch({ meterProvider: h.meterProvider, workload: 'batch', linkRetries: false }) },
  });

async function drain(stream: AsyncIterable<unknown>): Promise<unknown[]> {
  const chunks: unknown[] = [];
  for await (const c of stream) chunks.push(c);
  return chunks;
}

describe('@google/genai with httpOptions.fetch = meteredFetch()', () => {
  it('times the first token from the first chunk with text, and reads the last cumulative usage, thoughts as output', async () => {
    h.server.enqueue({ kind: 'gemini-stream', headersMs: 5, ttftMs: 80, gapMs: 20, chunks: ['Hel', 'lo', '!'], usage: { promptTokenCount: 11, thoughtsTokenCount: 40 } });
    const chunks = await drain(await genai().models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'hi' }));
    expect(chunks.length).toBeGreaterThanOrEqual(3);
    const s = await h.finished();
    expect(outcomes(s)).toEqual({ success: 1 });
    expect(ms(s.histogram('inferometer.time_to_first_token').sum)).toBeGreaterThanOrEqual(78);
    expect(s.histogram('gen_ai.client.operation.time_per_output_chunk').count).toBe(2);
    const attrs = { 'gen_ai.operation.name': 'generate_content', 'gen_ai.provider.name': 'gcp.gemini', 'gen_ai.request.model': 'gemini-2.5-flash', 'workload.class': 'batch' };
    expect(s.sum('inferometer.requests', attrs)).toBe(1);
    expect(s.histogram('gen_ai.client.token.usage', { 'gen_ai.token.type': 'input' }).sum).toBe(11);
    expect(s.histogram('gen_ai.client.token.usage', { 'gen_ai.token.type': 'output' }).sum).toBe(3 + 40);
    expect(s.sum('inferometer.cost')).toBeGreaterThan(0);
  });

  it('records an error chunk inside a 200 stream with its status, and the app gets the SDK\'s own error', async () => {
    h.server.enqueue({ kind: 'gemini-stream', errorAfter: { chunks: 2, status: 'UNAVAILABLE', code: 503 } });
    const error = await (async () => drain(await genai().models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'hi' })))().then(() => undefined, (e: unknown) => e);
    expect((error as { status?: number }).status).toBe(503);
    const s = await h.finished();
    expect(outcomes(s)).toEqual({ 'error:UNAVAILABLE': 1 });
    expect(s.histogram('inferometer.time_to_first_token').count).toBe(1);
  });

  it('records a stream cut before its finishReason as stream_interrupted', async () => {
    h.server.enqueue({ kind: 'gemini-stream', gapMs: 10, chunks: ['a', 'b', 'c', 'd'], disconnectAfter: 2 });
    await (async () => drain(await genai().models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'hi' })))().catch(() => undefined);
    const s = await h.finished();
    expect(outcomes(s)).toEqual({ 'error:stream_interrupted': 1 });
  });

  it('records a non-streamed generateContent with its usage and an HTTP 429 as an error of type 429', async () => {
    h.server.enqueue({ kind: 'json', usage: { input: 9, output: 4 } }, { kind: 'json', status: 429 });
    const response = await genai().models.generateContent({ model: 'gemini-2.5-pro', contents: 'hi' });
    expect(response.text).toBeDefined();
    await genai().models.generateContent({ model: 'gemini-2.5-pro', contents: 'hi' }).catch(() => undefined);
    const s = await h.finished(2);
    expect(outcomes(s)).toEqual({ success: 1, 'error:429': 1 });
    expect(s.histogram('gen_ai.client.token.usage', { 'gen_ai.token.type': 'input' }).sum).toBe(9);
    expect(s.histogram('inferometer.time_to_first_token').count).toBe(0);
  });

  it('meters Vertex AI paths too, with the model from the URL', async () => {
    h.server.enqueue({ kind: 'gemini-stream', chunks: ['ok'] });
    await drain(await genai({ vertexai: true }).models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'hi' }));
    expect(h.server.requests[0]!.path).toContain('/publishers/google/models/gemini-2.5-flash:streamGenerateContent');
    const s = await h.finished();
    expect(s.sum('inferometer.requests', { 'gen_ai.request.model': 'gemini-2.5-flash', 'inferometer.outcome': 'success' })).toBe(1);
  });

  it('never records the API key', async () => {
    h.server.enqueue({ kind: 'gemini-stream' });
    await drain(await genai().models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'hi' }));
    const s = await h.finished();
    expect(JSON.stringify(s.metrics)).not.toContain('AIza-secret');
  });
});

describe('the Vercel AI SDK\'s Google provider under meteredFetch()', () => {
  it('meters streamText, the API key in the URL query never recorded', async () => {
    h.server.enqueue({ kind: 'gemini-stream', ttftMs: 50, chunks: ['Hel', 'lo'] });
    const google = createGoogleGenerativeAI({ baseURL: `${h.server.origin}/v1beta`, apiKey: 'AIza-secret', fetch: meteredFetch({ meterProvider: h.meterProvider }) });
    const result = streamText({ model: google('gemini-2.5-flash'), prompt: 'hi', maxRetries: 0 });
    expect(await result.text).toBe('Hello');
    const s = await h.finished();
    expect(outcomes(s)).toEqual({ success: 1 });
    expect(ms(s.histogram('inferometer.time_to_first_token').sum)).toBeGreaterThanOrEqual(48);
    expect(JSON.stringify(s.metrics)).not.toContain('AIza-secret');
  });
});
