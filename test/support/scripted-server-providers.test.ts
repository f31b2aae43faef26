import { readdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createAnthropic } from '@ai-sdk/anthropic';
import { createGoogleGenerativeAI } from '@ai-sdk/google';
import Anthropic, { APIError, OverloadedError, RateLimitError } from '@anthropic-ai/sdk';
import { ApiError, GoogleGenAI } from '@google/genai';
import type { GenerateContentResponse } from '@google/genai';
import { streamText } from 'ai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fixtureScript, fixtureText, sseEvents } from './fixtures.ts';
import { startScriptedServer } from './scripted-server.ts';
import type { ScriptedServer } from './scripted-server.ts';

let server: ScriptedServer;
let anthropic: Anthropic;
let genai: GoogleGenAI;
const ask = { model: 'claude-sonnet-5-5', max_tokens: 64, messages: [{ role: 'user' as const, content: 'hi' }] };
const gemini = { model: 'gemini-2.5-flash', contents: 'hi' };

beforeAll(async () => {
  server = await startScriptedServer();
  anthropic = new Anthropic({ baseURL: server.origin, apiKey: 'k', maxRetries: 0 });
  genai = new GoogleGenAI({ apiKey: 'k', httpOptions: { baseUrl: server.origin } });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

async function anthropicEvents(body: Partial<Anthropic.MessageCreateParamsStreaming> = {}) {
  const events: Anthropic.RawMessageStreamEvent[] = [];
  const error = await (async () => {
    for await (const e of await anthropic.messages.create({ ...ask, ...body, stream: true })) events.push(e);
  })().catch((e: unknown) => e);
  const texts = events.flatMap((e) => (e.type === 'content_block_delta' && e.delta.type === 'text_delta' ? [e.delta.text] : []));
  return { events, types: events.map((e) => e.type), texts, error };
}
async function geminiChunks() {
  const chunks: GenerateContentResponse[] = [];
  const error = await (async () => {
    for await (const c of await genai.models.generateContentStream(gemini)) chunks.push(c);
  })().catch((e: unknown) => e);
  return { chunks, error };
}
const post = (path: string, body: unknown = {}) => fetch(`${server.origin}${path}`, { method: 'POST', body: JSON.stringify(body) });
const offsets = (i = 0) => server.timeline(i).events.map((t) => t - server.requests[i]!.receivedAt);

describe('anthropic-stream', () => {
  it('streams message_start, ping, one block, message_delta and message_stop to the real SDK at POST /v1/messages', async () => {
    server.enqueue({ kind: 'anthropic-stream', model: 'claude-scripted' });
    const { events, types, texts, error } = await anthropicEvents();
    expect(error).toBeUndefined();
    expect(types).toEqual(['message_start', 'content_block_start', ...Array(4).fill('content_block_delta'), 'content_block_stop', 'message_delta', 'message_stop']);
    expect(texts).toEqual(['Hel', 'lo', ' wor', 'ld']);
    const start = events[0] as Anthropic.RawMessageStartEvent;
    expect(start.message).toMatchObject({ model: 'claude-scripted', usage: { input_tokens: 12, cache_read_input_tokens: 0, cache_creation_input_tokens: 0, output_tokens: 1 } });
    expect(events.at(-2)).toMatchObject({ delta: { stop_reason: 'end_turn' }, usage: { input_tokens: 12, output_tokens: 4 } });
    const req = server.requests[0]!;
    expect(req).toMatchObject({ method: 'POST', path: '/v1/messages', query: '', body: { stream: true, model: 'claude-sonnet-5-5' } });
    expect(req.headers['anthropic-version']).toBeDefined();
    // The SDK skips the ping; it is on the wire right after the first content_block_start.
    expect(server.timeline(0).events).toHaveLength(10);
  });

  it('thinking, text and tool_use blocks accumulate in messages.stream().finalMessage()', async () => {
    server.enqueue({
      kind: 'anthropic-stream',
      blocks: [
        { type: 'thinking', chunks: ['Let me', ' think'], signature: 'EsSig' },
        { type: 'text', chunks: ['Checking.'] },
        { type: 'tool_use', name: 'get_weather', id: 'toolu_1', chunks: ['{"city"', ':"Paris"}'] },
      ],
      startUsage: { input_tokens: 20, cache_read_input_tokens: 100, cache_creation_input_tokens: 7 },
    });
    const final = await anthropic.messages.stream(ask).finalMessage();
    expect(final.content).toEqual([
      { type: 'thinking', thinking: 'Let me think', signature: 'EsSig' },
      { type: 'text', text: 'Checking.' },
      { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
    ]);
    expect(final.stop_reason).toBe('tool_use');
    expect(final.usage).toMatchObject({ input_tokens: 20, cache_read_input_tokens: 100, cache_creation_input_tokens: 7, output_tokens: 5 });
    expect(server.requests[0]!.headers['x-stainless-helper-method']).toBe('stream');
  });

  it('several message_delta events (one after a block), input counts that replace the start, and usage.iterations on the last', async () => {
    const iterations = [
      { type: 'compaction' as const, input_tokens: 60385, output_tokens: 522 },
      { type: 'message' as const, input_tokens: 612, output_tokens: 2819 },
    ];
    server.enqueue({
      kind: 'anthropic-stream',
      startUsage: { input_tokens: 2037 },
      blocks: [{ type: 'server_tool_use', name: 'web_search', chunks: ['{"q":"x"}'] }, { type: 'whole', block: { type: 'web_search_tool_result', tool_use_id: 'srvtoolu_1', content: [] } }, { type: 'text', chunks: ['ok'] }],
      messageDeltas: [
        { afterBlock: 0, usage: { input_tokens: 2037, output_tokens: 30 } },
        { usage: { input_tokens: 15665, output_tokens: 795, server_tool_use: { web_search_requests: 1 } } },
      ],
      iterations,
    });
    const { events, types } = await anthropicEvents();
    // The tool block's first input_json_delta is an empty "" (as the API sends), then the scripted piece.
    expect(types.slice(0, 6)).toEqual(['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta']);
    const deltas = events.filter((e): e is Anthropic.RawMessageDeltaEvent => e.type === 'message_delta');
    expect(deltas.map((d) => [d.delta.stop_reason, d.usage.input_tokens, d.usage.output_tokens])).toEqual([[null, 2037, 30], ['end_turn', 15665, 795]]);
    expect((deltas[1]!.usage as unknown as { iterations: unknown }).iterations).toEqual(iterations);
    expect(events[1]).toMatchObject({ content_block: { type: 'server_tool_use', name: 'web_search' } });
    expect(events[2]).toMatchObject({ delta: { type: 'input_json_delta', partial_json: '' } });
    expect(events[6]).toMatchObject({ content_block: { type: 'web_search_tool_result' } });
  });

  it('errorAfter sends `event: error` after N output chunks: the SDK throws an APIError of that type, no message_stop', async () => {
    server.enqueue({ kind: 'anthropic-stream', errorAfter: { chunks: 2, type: 'overloaded_error', message: 'Overloaded' } });
    const { types, texts, error } = await anthropicEvents();
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).type).toBe('overloaded_error');
    expect(texts).toEqual(['Hel', 'lo']);
    expect(types).not.toContain('message_stop');
  });

  it('disconnectAfter cuts the socket mid-stream: the SDK iteration throws after the scripted deltas', async () => {
    server.enqueue({ kind: 'anthropic-stream', disconnectAfter: 1, gapMs: 20 });
    const { texts, types, error } = await anthropicEvents();
    expect(error).toBeInstanceOf(Error);
    expect(texts).toEqual(['Hel']);
    expect(types).not.toContain('message_delta');
  });

  it('times the writes: headers, pings (not output), the first thinking_delta as firstOutputAt, then the gaps', async () => {
    server.enqueue({
      kind: 'anthropic-stream', headersMs: 20, ttftMs: 120, gapMs: 30, ping: 'first', pingsAtMs: [60, 90],
      blocks: [{ type: 'thinking', chunks: ['a'] }, { type: 'text', chunks: ['b', 'c'] }],
    });
    const t0 = performance.now();
    const stream = await anthropic.messages.create({ ...ask, stream: true });
    let firstDeltaAt = 0;
    for await (const e of stream) if (e.type === 'content_block_delta' && !firstDeltaAt) firstDeltaAt = performance.now();
    expect(firstDeltaAt - t0).toBeGreaterThanOrEqual(120);
    const t = server.timeline(0);
    const arrival = server.requests[0]!.receivedAt;
    expect(t.headersAt! - arrival).toBeGreaterThanOrEqual(20);
    expect(t.firstOutputAt! - arrival).toBeGreaterThanOrEqual(120);
    expect(t.firstOutputAt! - arrival).toBeLessThan(120 + 12); // timers on a shared machine
    // message_start, ping, ping@60, ping@90, thinking start, thinking_delta@120, signature, stop, text start, b@150, c@180, stop, message_delta, message_stop
    const at = offsets();
    expect(at).toHaveLength(14);
    [[2, 60], [3, 90], [5, 120], [9, 150], [10, 180]].forEach(([i, due]) => {
      expect(at[i!]!).toBeGreaterThanOrEqual(due!);
      expect(at[i!]!).toBeLessThan(due! + 12); // timers on a shared machine
    });
    expect(t.firstOutputAt).toBe(t.events[5]);
  });

  it("json answers /v1/messages with an Anthropic message; HTTP errors come in Anthropic's error shape", async () => {
    server.enqueue(
      { kind: 'json', content: 'plain', model: 'claude-snapshot', usage: { input: 30, output: 5, cachedInput: 10 }, providerUsage: { cache_creation_input_tokens: 4 } },
      { kind: 'json', status: 429, headers: { 'retry-after': '0' } },
      { kind: 'json', status: 529 },
    );
    const msg = await anthropic.messages.create(ask);
    expect(msg).toMatchObject({ type: 'message', model: 'claude-snapshot', content: [{ type: 'text', text: 'plain' }], stop_reason: 'end_turn' });
    expect(msg.usage).toMatchObject({ input_tokens: 20, cache_read_input_tokens: 10, cache_creation_input_tokens: 4, output_tokens: 5 });
    const limited: unknown = await anthropic.messages.create(ask).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(RateLimitError);
    expect((limited as APIError).error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error', message: expect.any(String) } });
    expect((limited as APIError).requestID).toMatch(/^req_/);
    expect(await anthropic.messages.create(ask).catch((e: unknown) => e)).toBeInstanceOf(OverloadedError);
  });

  it('@ai-sdk/anthropic streamText reads it (baseURL origin/v1): text and usage; an in-stream error is an error part', async () => {
    const model = createAnthropic({ baseURL: `${server.origin}/v1`, apiKey: 'k' })('claude-sonnet-4-5');
    server.enqueue({ kind: 'anthropic-stream', usage: { output_tokens: 9 } }, { kind: 'anthropic-stream', errorAfter: { chunks: 1 } });
    const ok = streamText({ model, prompt: 'hi', maxOutputTokens: 64 });
    expect(await ok.text).toBe('Hello world');
    expect(await ok.usage).toMatchObject({ inputTokens: 12, outputTokens: 9 });
    expect(server.requests[0]).toMatchObject({ path: '/v1/messages', headers: { 'x-api-key': 'k' } });
    const failing = streamText({ model, prompt: 'hi', maxOutputTokens: 64, maxRetries: 0, onError: () => {} });
    const parts: string[] = [];
    for await (const p of failing.fullStream) parts.push(p.type === 'error' ? `error:${(p.error as { type?: string }).type}` : p.type);
    expect(parts).toContain('error:overloaded_error');
    expect(parts.filter((p) => p === 'text-delta')).toHaveLength(1);
  });
});

describe('gemini-stream', () => {
  it('@google/genai streams from POST /v1/models/{m}:streamGenerateContent?alt=sse: cumulative usage on every chunk, STOP last', async () => {
    const { chunks, error } = await geminiChunks();
    expect(error).toBeUndefined();
    expect(server.requests[0]).toMatchObject({ path: '/v1/models/gemini-2.5-flash:streamGenerateContent', query: 'alt=sse', headers: { 'x-goog-api-key': 'k' } });
    expect(chunks.map((c) => c.text ?? '')).toEqual(['Hel', 'lo', ' wor', 'ld', '']);
    expect(chunks.map((c) => c.usageMetadata?.candidatesTokenCount)).toEqual([1, 2, 3, 4, 4]);
    expect(chunks.every((c) => c.usageMetadata?.promptTokenCount === 12 && c.modelVersion === 'gemini-2.5-flash')).toBe(true);
    expect(chunks.map((c) => c.candidates?.[0]?.finishReason)).toEqual([undefined, undefined, undefined, undefined, 'STOP']);
    expect(new Set(chunks.map((c) => c.responseId)).size).toBe(1);
    // The wire: data-only events, CRLF CRLF, no [DONE].
    const body = await (await post('/v1beta/models/gemini-x:streamGenerateContent?alt=sse')).text();
    expect(sseEvents(body)).toHaveLength(5);
    expect(sseEvents(body).every((e) => e.startsWith('data: {') && e.endsWith('}\r\n\r\n'))).toBe(true);
    expect(body).not.toContain('[DONE]');
  });

  it('thought parts, a function call, and usage with thoughts, tool-use prompt and cache (total = prompt + tool + candidates + thoughts)', async () => {
    server.enqueue({
      kind: 'gemini-stream', thoughts: ['**Plan**'], chunks: ['ok'], functionCalls: [{ name: 'get_weather', args: { city: 'Paris' } }],
      usage: { promptTokenCount: 20, thoughtsTokenCount: 40, toolUsePromptTokenCount: 5, cachedContentTokenCount: 8 }, finishChunk: 'last-output',
    });
    const { chunks } = await geminiChunks();
    expect(chunks).toHaveLength(3);
    expect(chunks[0]!.candidates?.[0]?.content?.parts).toEqual([{ text: '**Plan**', thought: true }]);
    expect(chunks[2]!.functionCalls).toEqual([{ name: 'get_weather', args: { city: 'Paris' } }]);
    expect(chunks[2]!.candidates?.[0]?.finishReason).toBe('STOP');
    expect(chunks[0]!.usageMetadata).toMatchObject({ thoughtsTokenCount: 40, totalTokenCount: 65 });
    expect(chunks[0]!.usageMetadata?.candidatesTokenCount).toBeUndefined();
    expect(chunks[2]!.usageMetadata).toMatchObject({ promptTokenCount: 20, candidatesTokenCount: 2, thoughtsTokenCount: 40, toolUsePromptTokenCount: 5, cachedContentTokenCount: 8, totalTokenCount: 67 });
  });

  it('errorAfter sends an error chunk after a 200: @google/genai throws ApiError with its code', async () => {
    server.enqueue({ kind: 'gemini-stream', errorAfter: { chunks: 2 } });
    const { chunks, error } = await geminiChunks();
    expect(chunks.map((c) => c.text)).toEqual(['Hel', 'lo']);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(503);
    expect((error as ApiError).message).toContain('UNAVAILABLE');
  });

  it('blockReason: one chunk with promptFeedback and no candidates; usageOn last: usage only on the last chunk', async () => {
    server.enqueue({ kind: 'gemini-stream', blockReason: 'PROHIBITED_CONTENT', usage: { promptTokenCount: 9 } }, { kind: 'gemini-stream', usageOn: 'last' });
    const blocked = await geminiChunks();
    expect(blocked.chunks).toHaveLength(1);
    expect(blocked.chunks[0]).toMatchObject({ promptFeedback: { blockReason: 'PROHIBITED_CONTENT' }, usageMetadata: { promptTokenCount: 9, totalTokenCount: 9 } });
    expect(blocked.chunks[0]!.candidates).toBeUndefined();
    const { chunks } = await geminiChunks();
    expect(chunks.map((c) => c.usageMetadata?.totalTokenCount)).toEqual([undefined, undefined, undefined, undefined, 16]);
  });

  it('framing: LF on request, a JSON array without alt=sse (as the API does)', async () => {
    server.enqueue({ kind: 'gemini-stream', framing: 'lf', chunks: ['a'] }, { kind: 'gemini-stream', chunks: ['a', 'b'] });
    const lf = await (await post('/v1beta/models/m:streamGenerateContent?alt=sse')).text();
    expect(lf).toMatch(/^data: \{.*\}\n\ndata: \{.*\}\n\n$/);
    const res = await post('/v1beta/models/m:streamGenerateContent');
    expect(res.headers.get('content-type')).toContain('application/json');
    const array = JSON.parse(await res.text()) as GenerateContentResponse[];
    expect(array.map((c) => c.candidates?.[0]?.content?.parts?.[0]?.text)).toEqual(['a', 'b', '']);
  });

  it('Vertex paths: model and method come from the path (@google/genai vertexai: /v1beta1/publishers/google/models/...)', async () => {
    const vertex = new GoogleGenAI({ vertexai: true, apiKey: 'k', httpOptions: { baseUrl: server.origin } });
    const seen: GenerateContentResponse[] = [];
    for await (const c of await vertex.models.generateContentStream({ model: 'gemini-2.5-pro', contents: 'hi' })) seen.push(c);
    expect(server.requests[0]!.path).toBe('/v1beta1/publishers/google/models/gemini-2.5-pro:streamGenerateContent');
    expect(seen[0]!.modelVersion).toBe('gemini-2.5-pro');
    const res = await post('/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.0-flash-001:generateContent');
    expect(await res.json()).toMatchObject({ modelVersion: 'gemini-2.0-flash-001', candidates: [{ finishReason: 'STOP' }] });
  });

  it("generateContent answers a GenerateContentResponse; HTTP errors come in Google's error shape", async () => {
    server.enqueue({ kind: 'json', content: 'plain', usage: { input: 30, output: 5, cachedInput: 10 }, providerUsage: { thoughtsTokenCount: 7 } }, { kind: 'json', status: 429 });
    const res = await genai.models.generateContent(gemini);
    expect(server.requests[0]!.path).toBe('/v1/models/gemini-2.5-flash:generateContent');
    expect(res.text).toBe('plain');
    expect(res.usageMetadata).toMatchObject({ promptTokenCount: 30, cachedContentTokenCount: 10, candidatesTokenCount: 5, thoughtsTokenCount: 7, totalTokenCount: 42 });
    const err: unknown = await genai.models.generateContent(gemini).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(429);
    expect(JSON.parse((err as ApiError).message)).toMatchObject({ error: { code: 429, status: 'RESOURCE_EXHAUSTED' } });
  });

  it('times the writes: firstOutputAt at ttftMs, then the gaps; the STOP chunk goes with the last', async () => {
    server.enqueue({ kind: 'gemini-stream', headersMs: 20, ttftMs: 80, gapMs: [30, 50], chunks: ['a', 'b', 'c'] });
    await geminiChunks();
    const at = offsets();
    expect(at).toHaveLength(4);
    [80, 110, 160, 160].forEach((due, i) => {
      expect(at[i]!).toBeGreaterThanOrEqual(due);
      expect(at[i]!).toBeLessThan(due + 12); // timers on a shared machine
    });
    expect(server.timeline(0).firstOutputAt).toBe(server.timeline(0).events[0]);
  });

  it('@ai-sdk/google streamText reads it (baseURL origin/v1beta): text and usage; an error chunk is an error part', async () => {
    const model = createGoogleGenerativeAI({ baseURL: `${server.origin}/v1beta`, apiKey: 'k' })('gemini-2.5-flash');
    server.enqueue({ kind: 'gemini-stream', usage: { thoughtsTokenCount: 3 } }, { kind: 'gemini-stream', errorAfter: { chunks: 1 } });
    const ok = streamText({ model, prompt: 'hi' });
    expect(await ok.text).toBe('Hello world');
    expect(await ok.usage).toMatchObject({ inputTokens: 12, outputTokens: 7 });
    expect(server.requests[0]).toMatchObject({ path: '/v1beta/models/gemini-2.5-flash:streamGenerateContent', query: 'alt=sse' });
    const failing = streamText({ model, prompt: 'hi', maxRetries: 0, onError: () => {} });
    const parts: string[] = [];
    for await (const p of failing.fullStream) parts.push(p.type);
    expect(parts).toContain('error');
  });
});

describe('default script by path (nothing queued)', () => {
  it('messages -> anthropic-stream or an Anthropic message, gemini stream path -> gemini-stream, generateContent -> json', async () => {
    expect(await (await post('/v1/messages', { stream: true })).text()).toMatch(/^event: message_start\n/);
    expect(await (await post('/v1/messages', {})).json()).toMatchObject({ type: 'message', role: 'assistant' });
    expect(await (await post('/v1beta/models/m:streamGenerateContent?alt=sse')).text()).toMatch(/^data: \{"candidates"/);
    expect(await (await post('/v1beta/models/m:generateContent')).json()).toMatchObject({ modelVersion: 'm' });
    expect(await (await post('/v1/chat/completions', { stream: true })).text()).toMatch(/^data: \{.*"chat\.completion\.chunk"/);
  });
});

describe('recorded fixtures parse with the bare SDKs (served as raw-sse)', () => {
  const names = (dir: string) => readdirSync(new URL(`../fixtures/${dir}/`, import.meta.url)).map((f) => `${dir}/${f}`);

  it.each(names('anthropic'))('%s', async (name) => {
    server.enqueue(fixtureScript(name));
    const { events, error } = await anthropicEvents();
    const onWire = sseEvents(fixtureText(name)).filter((e) => !e.startsWith('event: ping'));
    if (name.includes('error')) {
      expect(error).toBeInstanceOf(APIError);
      expect((error as APIError).type).toBe('overloaded_error');
      expect(events).toHaveLength(onWire.length - 1);
    } else {
      expect(error).toBeUndefined();
      expect(events).toHaveLength(onWire.length);
      expect(events.at(-1)!.type).toBe('message_stop');
    }
    // Output events are marked, so firstOutputAt is the first text/thinking/tool-input delta.
    const t = server.timeline(0);
    expect(t.firstOutputAt).toBe(t.events[sseEvents(fixtureText(name)).findIndex((e) => /_delta","(text|thinking)"|"partial_json":"[^"]/.test(e))]);
  });

  it.each(names('gemini'))('%s', async (name) => {
    server.enqueue(fixtureScript(name));
    const { chunks, error } = await geminiChunks();
    const onWire = sseEvents(fixtureText(name));
    if (name.includes('error')) {
      expect(error).toBeInstanceOf(ApiError);
      expect(chunks).toHaveLength(onWire.length - 1);
      return;
    }
    expect(error).toBeUndefined();
    expect(chunks).toHaveLength(onWire.length);
    const last = JSON.parse(onWire.at(-1)!.trim().slice('data:'.length)) as GenerateContentResponse;
    expect(chunks.at(-1)!.usageMetadata).toEqual(last.usageMetadata);
    if (!name.includes('blocked')) expect(chunks.at(-1)!.candidates?.[0]?.finishReason).toBe('STOP');
  });
});
