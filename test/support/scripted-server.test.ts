import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI, {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  BadRequestError,
  InternalServerError,
  RateLimitError,
} from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startScriptedServer } from './scripted-server.ts';
import type { ScriptedServer } from './scripted-server.ts';

let server: ScriptedServer;
let client: OpenAI;
const MODEL = 'gpt-4o-mini';
const messages = [{ role: 'user' as const, content: 'hi' }];

beforeAll(async () => {
  server = await startScriptedServer();
  client = new OpenAI({ baseURL: server.baseURL, apiKey: 'test', maxRetries: 0 });
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => server.reset());

/** Collects the contents of a chat stream, with the client-side arrival time of each chunk. */
async function collectChat(
  stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>,
  into: { chunks: OpenAI.Chat.Completions.ChatCompletionChunk[]; at: number[] } = { chunks: [], at: [] },
) {
  for await (const chunk of stream) {
    into.chunks.push(chunk);
    into.at.push(performance.now());
  }
  return into;
}
const contents = (chunks: OpenAI.Chat.Completions.ChatCompletionChunk[]): string[] =>
  chunks.flatMap((c) => (c.choices[0]?.delta.content ? [c.choices[0].delta.content] : []));

describe('chat completions stream', () => {
  it('delivers the scripted contents in order, after a role-only first chunk, then finish_reason', async () => {
    server.enqueue({ kind: 'chat-stream', chunks: ['A', 'b', 'c'], model: 'scripted-model' });
    const stream = await client.chat.completions.create({ model: MODEL, messages, stream: true });
    const { chunks } = await collectChat(stream);
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: '' });
    expect(contents(chunks)).toEqual(['A', 'b', 'c']);
    expect(chunks.at(-1)?.choices[0]).toMatchObject({ delta: {}, finish_reason: 'stop' });
    expect(chunks.every((c) => c.model === 'scripted-model' && c.object === 'chat.completion.chunk')).toBe(true);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    // No usage was asked for: no usage key at all, no usage chunk.
    expect(chunks.some((c) => 'usage' in c)).toBe(false);
  });

  it('sends the usage-only final chunk (and usage:null elsewhere) exactly when stream_options.include_usage is true', async () => {
    server.enqueue({ kind: 'chat-stream', usage: { input: 30, output: 4, cachedInput: 10 } });
    const withUsage = await collectChat(
      await client.chat.completions.create({ model: MODEL, messages, stream: true, stream_options: { include_usage: true } }),
    );
    const last = withUsage.chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual({
      prompt_tokens: 30,
      completion_tokens: 4,
      total_tokens: 34,
      prompt_tokens_details: { cached_tokens: 10 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
    expect(withUsage.chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);

    server.enqueue({ kind: 'chat-stream' });
    const without = await collectChat(
      await client.chat.completions.create({ model: MODEL, messages, stream: true, stream_options: { include_usage: false } }),
    );
    expect(without.chunks.every((c) => c.choices.length === 1 && !('usage' in c))).toBe(true);
  });

  it("includeUsage 'always' / 'never' override the request", async () => {
    server.enqueue({ kind: 'chat-stream', includeUsage: 'always' }, { kind: 'chat-stream', includeUsage: 'never' });
    const forced = await collectChat(await client.chat.completions.create({ model: MODEL, messages, stream: true }));
    expect(forced.chunks.at(-1)?.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 4, total_tokens: 16 });
    const suppressed = await collectChat(
      await client.chat.completions.create({ model: MODEL, messages, stream: true, stream_options: { include_usage: true } }),
    );
    expect(suppressed.chunks.some((c) => c.usage)).toBe(false);
  });

  it('honours headersMs, ttftMs and per-gap gapMs within a few ms (client side and server timeline)', async () => {
    server.enqueue({ kind: 'chat-stream', headersMs: 60, ttftMs: 150, gapMs: [40, 90, 20], chunks: ['a', 'b', 'c', 'd'] });
    const start = performance.now();
    const { data: stream, response } = await client.chat.completions
      .create({ model: MODEL, messages, stream: true })
      .withResponse();
    const headersAt = performance.now();
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const { chunks, at } = await collectChat(stream);
    const contentAt = at.filter((_, i) => chunks[i]?.choices[0]?.delta.content);

    expect(headersAt - start).toBeGreaterThanOrEqual(60);
    expect(headersAt - start).toBeLessThan(60 + 25);
    expect(contentAt).toHaveLength(4);
    expect(contentAt[0]! - start).toBeGreaterThanOrEqual(150);
    expect(contentAt[0]! - start).toBeLessThan(150 + 25);
    const gaps = contentAt.slice(1).map((t, i) => t - contentAt[i]!);
    [40, 90, 20].forEach((g, i) => expect(Math.abs(gaps[i]! - g)).toBeLessThan(12));

    // Server-side truth: writes happen at the scripted offsets from arrival, never early.
    const t = server.timeline(0);
    const arrival = server.requests[0]!.receivedAt;
    expect(t.headersAt! - arrival).toBeGreaterThanOrEqual(60);
    expect(t.headersAt! - arrival).toBeLessThan(60 + 12); // timers on a shared machine
    expect(t.firstOutputAt! - arrival).toBeGreaterThanOrEqual(150);
    expect(t.firstOutputAt! - arrival).toBeLessThan(150 + 12); // timers on a shared machine
    // role chunk + 4 contents + finish chunk + [DONE]
    expect(t.events).toHaveLength(7);
    const outputs = t.events.slice(1, 5).map((e) => e - arrival);
    [150, 190, 280, 300].forEach((due, i) => {
      expect(outputs[i]!).toBeGreaterThanOrEqual(due);
      expect(outputs[i]!).toBeLessThan(due + 12); // timers on a shared machine
    });
    expect(t.endAt).toBeGreaterThanOrEqual(t.events.at(-1)!);
  });

  it('disconnectAfter destroys the socket mid-stream: the SDK iteration throws after the scripted chunks', async () => {
    server.enqueue({ kind: 'chat-stream', disconnectAfter: 2, gapMs: 30 });
    const got = { chunks: [] as OpenAI.Chat.Completions.ChatCompletionChunk[], at: [] as number[] };
    const stream = await client.chat.completions.create({ model: MODEL, messages, stream: true });
    await expect(collectChat(stream, got)).rejects.toThrow();
    expect(contents(got.chunks)).toEqual(['Hel', 'lo']);
    expect(got.chunks.some((c) => c.choices[0]?.finish_reason)).toBe(false);
    // The socket goes away when the third chunk would have been due (0, 30, [60]).
    const end = server.timeline(0).endAt! - server.requests[0]!.receivedAt;
    expect(end).toBeGreaterThanOrEqual(60);
    expect(end).toBeLessThan(65);
  });

  it('errorAfter sends an in-stream error event: the SDK throws an APIError carrying it', async () => {
    server.enqueue({ kind: 'chat-stream', errorAfter: { chunks: 1, code: 'overloaded', message: 'scripted failure' } });
    const got = { chunks: [] as OpenAI.Chat.Completions.ChatCompletionChunk[], at: [] as number[] };
    const stream = await client.chat.completions.create({ model: MODEL, messages, stream: true });
    const err: unknown = await collectChat(stream, got).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIError);
    expect((err as APIError).message).toContain('scripted failure');
    expect((err as APIError).code).toBe('overloaded');
    expect(contents(got.chunks)).toEqual(['Hel']);
  });

  it('stallAfter stops writing but keeps the connection open until the client aborts', async () => {
    server.enqueue({ kind: 'chat-stream', stallAfter: 1 });
    const controller = new AbortController();
    const stream = await client.chat.completions.create({ model: MODEL, messages, stream: true }, { signal: controller.signal });
    const got = { chunks: [] as OpenAI.Chat.Completions.ChatCompletionChunk[], at: [] as number[] };
    const done = collectChat(stream, got).catch((e: unknown) => e);
    await sleep(120);
    expect(contents(got.chunks)).toEqual(['Hel']);
    expect(server.timeline(0).endAt).toBeUndefined();
    controller.abort();
    await done;
    expect(contents(got.chunks)).toEqual(['Hel']);
  });

  it('streams tool-call argument fragments with id and name on the first only, finish_reason tool_calls', async () => {
    server.enqueue({ kind: 'chat-stream', toolCall: { name: 'get_weather' }, chunks: ['{"ci', 'ty":', '"Paris"}'] });
    const { chunks } = await collectChat(await client.chat.completions.create({ model: MODEL, messages, stream: true }));
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls).toHaveLength(3);
    expect(calls[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'get_weather', arguments: '{"ci' } });
    expect(calls[0]?.id).toMatch(/^call_/);
    expect(calls.slice(1).every((c) => c.id === undefined && c.function?.name === undefined)).toBe(true);
    expect(calls.map((c) => c.function?.arguments).join('')).toBe('{"city":"Paris"}');
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('sends an Azure-style empty-choices first event and reasoning_content pieces before the content', async () => {
    server.enqueue({ kind: 'chat-stream', emptyChoicesFirst: true, reasoning: ['think', 'ing'], chunks: ['ok'] });
    const { chunks } = await collectChat(await client.chat.completions.create({ model: MODEL, messages, stream: true }));
    expect(chunks[0]?.choices).toEqual([]);
    expect(chunks[0]).toHaveProperty('prompt_filter_results');
    const deltas = chunks.slice(2).map((c) => c.choices[0]?.delta as Record<string, unknown> | undefined);
    expect(deltas.map((d) => d?.['reasoning_content'] ?? d?.['content'])).toEqual(['think', 'ing', 'ok', undefined]);
    expect(server.timeline(0).events).toHaveLength(7);
  });

  it('rejectStreamOptions answers 400 (mentioning stream_options) only when stream_options is sent', async () => {
    server.setFallback({ kind: 'chat-stream', rejectStreamOptions: true });
    const err: unknown = await client.chat.completions
      .create({ model: MODEL, messages, stream: true, stream_options: { include_usage: true } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as BadRequestError).message).toContain('stream_options');
    const ok = await collectChat(await client.chat.completions.create({ model: MODEL, messages, stream: true }));
    expect(contents(ok.chunks).join('')).toBe('Hello world');
  });

  it('batch writes several events in one res.write() at the due time of the last one', async () => {
    server.enqueue({ kind: 'chat-stream', batch: 2, chunks: ['a', 'b', 'c'], gapMs: 30 });
    const { chunks } = await collectChat(await client.chat.completions.create({ model: MODEL, messages, stream: true }));
    expect(contents(chunks)).toEqual(['a', 'b', 'c']);
    const t = server.timeline(0);
    const arrival = server.requests[0]!.receivedAt;
    // events: role, a, b, c, finish, [DONE] -> writes [role+a] [b+c] [finish+DONE]
    expect(t.events).toHaveLength(6);
    expect(t.events[0]).toBe(t.events[1]);
    expect(t.events[2]).toBe(t.events[3]);
    expect(t.events[4]).toBe(t.events[5]);
    expect(t.events[2]! - arrival).toBeGreaterThanOrEqual(60);
  });

  it('streams legacy text_completion chunks on /completions', async () => {
    server.enqueue({ kind: 'chat-stream', chunks: ['x', 'y'] });
    const stream = await client.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'p', stream: true, stream_options: { include_usage: true } });
    const seen: OpenAI.Completions.Completion[] = [];
    for await (const c of stream) seen.push(c);
    expect(seen.every((c) => c.object === 'text_completion')).toBe(true);
    expect(seen.map((c) => c.choices[0]?.text ?? null)).toEqual(['x', 'y', '', null]);
    expect(seen.at(-1)?.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 2 });
  });

  it('stops the timers of a request whose client went away', async () => {
    server.enqueue({ kind: 'chat-stream', chunks: Array.from({ length: 20 }, (_, i) => `${i}`), gapMs: 15 });
    const stream = await client.chat.completions.create({ model: MODEL, messages, stream: true });
    let n = 0;
    for await (const c of stream) if (c.choices[0]?.delta.content && ++n === 2) break;
    await sleep(60);
    const written = server.timeline(0).events.length;
    await sleep(80);
    expect(server.timeline(0).events.length).toBe(written);
    expect(written).toBeLessThan(10);
    expect(server.timeline(0).endAt).toBeUndefined();
  });
});

describe('responses stream', () => {
  it('parses through client.responses.create({stream:true}) with OpenAI event order, terminal event and usage', async () => {
    server.enqueue({ kind: 'responses-stream', chunks: ['Hi', ' there'], usage: { input: 20, output: 2, cachedInput: 5 } });
    const stream = await client.responses.create({ model: MODEL, input: 'hi', stream: true });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const e of stream) events.push(e);
    expect(events.map((e) => e.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const last = events.at(-1)!;
    if (last.type !== 'response.completed') throw new Error('expected response.completed');
    expect(last.response.status).toBe('completed');
    expect(last.response.usage).toEqual({
      input_tokens: 20,
      input_tokens_details: { cached_tokens: 5 },
      output_tokens: 2,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 22,
    });
    expect(server.timeline(0).events).toHaveLength(10);
    expect(server.timeline(0).firstOutputAt).toBe(server.timeline(0).events[4]);
  });

  it('parses through client.responses.stream() into a final response', async () => {
    server.enqueue({ kind: 'responses-stream', ttftMs: 30, gapMs: 10 });
    const final = await client.responses.stream({ model: MODEL, input: 'hi' }).finalResponse();
    expect(final.output_text).toBe('Hello world');
    expect(final.usage).toMatchObject({ input_tokens: 12, output_tokens: 4, total_tokens: 16 });
    expect(server.requests[0]!.body).toMatchObject({ stream: true });
  });

  it("terminal 'incomplete' and 'failed' end with that event type", async () => {
    server.enqueue({ kind: 'responses-stream', terminal: 'incomplete' }, { kind: 'responses-stream', terminal: 'failed', errorCode: 'boom' });
    const types = async () => {
      const out: OpenAI.Responses.ResponseStreamEvent[] = [];
      for await (const e of await client.responses.create({ model: MODEL, input: 'hi', stream: true })) out.push(e);
      return out.at(-1)!;
    };
    const incomplete = await types();
    expect(incomplete.type).toBe('response.incomplete');
    const failed = await types();
    if (failed.type !== 'response.failed') throw new Error(`expected response.failed, got ${failed.type}`);
    expect(failed.response.error).toMatchObject({ code: 'boom' });
  });

  it('disconnectAfter cuts the stream without a terminal event: the SDK iteration throws', async () => {
    server.enqueue({ kind: 'responses-stream', disconnectAfter: 1 });
    const types: string[] = [];
    const run = async () => {
      for await (const e of await client.responses.create({ model: MODEL, input: 'hi', stream: true })) types.push(e.type);
    };
    await expect(run()).rejects.toThrow();
    expect(types.at(-1)).toBe('response.output_text.delta');
    expect(types.filter((t) => t === 'response.output_text.delta')).toHaveLength(1);
  });

  it('errorAfter sends `event: error`: the SDK throws an APIError', async () => {
    server.enqueue({ kind: 'responses-stream', errorAfter: { chunks: 2, code: 'server_error', message: 'mid-stream' } });
    const deltas: string[] = [];
    const run = async () => {
      for await (const e of await client.responses.create({ model: MODEL, input: 'hi', stream: true })) {
        if (e.type === 'response.output_text.delta') deltas.push(e.delta);
      }
    };
    const err: unknown = await run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIError);
    expect((err as APIError).message).toContain('mid-stream');
    expect(deltas).toEqual(['Hel', 'lo']);
  });
});

describe('json, errors and connection failures', () => {
  it('non-streaming chat, responses and embeddings work through the SDK with usage', async () => {
    server.enqueue(
      { kind: 'json', content: 'plain answer', usage: { input: 7, output: 3 } },
      { kind: 'json', content: 'resp answer', usage: { input: 8, output: 2 } },
      { kind: 'json', usage: { input: 5, output: 0 } },
    );
    const chat = await client.chat.completions.create({ model: MODEL, messages });
    expect(chat.choices[0]?.message.content).toBe('plain answer');
    expect(chat.usage).toMatchObject({ prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 });
    const resp = await client.responses.create({ model: MODEL, input: 'hi' });
    expect(resp.output_text).toBe('resp answer');
    expect(resp.usage).toMatchObject({ input_tokens: 8, output_tokens: 2 });
    const emb = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'x' });
    expect(Array.from(emb.data[0]!.embedding)).toEqual([0.1, 0.2, 0.3]);
    expect(emb.usage).toEqual({ prompt_tokens: 5, total_tokens: 5 });
    expect(server.requests.map((r) => r.path)).toEqual(['/v1/chat/completions', '/v1/responses', '/v1/embeddings']);
  });

  it('429 with x-should-retry: false gives a RateLimitError with the OpenAI error shape', async () => {
    server.setFallback({ kind: 'json', status: 429, headers: { 'x-should-retry': 'false' } });
    const retrying = new OpenAI({ baseURL: server.baseURL, apiKey: 'test', maxRetries: 2 });
    const err: unknown = await retrying.chat.completions.create({ model: MODEL, messages }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    expect((err as RateLimitError).code).toBe('rate_limit_exceeded');
    expect(server.requests).toHaveLength(1);
  });

  it('other statuses get their OpenAI error code, and delayMs delays the answer', async () => {
    server.enqueue({ kind: 'json', status: 503, delayMs: 80 });
    const start = performance.now();
    const err: unknown = await client.chat.completions.create({ model: MODEL, messages }).catch((e: unknown) => e);
    expect(performance.now() - start).toBeGreaterThanOrEqual(80);
    expect(err).toBeInstanceOf(InternalServerError);
    expect((err as APIError).error).toEqual({ message: expect.any(String), type: 'server_error', param: null, code: 'service_unavailable' });
  });

  it('reset gives an APIConnectionError (not a timeout)', async () => {
    server.enqueue({ kind: 'reset' });
    const err: unknown = await client.chat.completions.create({ model: MODEL, messages, stream: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIConnectionError);
    expect(err).not.toBeInstanceOf(APIConnectionTimeoutError);
  });

  it('hang with timeout: 200 gives an APIConnectionTimeoutError after ~200 ms', async () => {
    server.enqueue({ kind: 'hang' });
    const start = performance.now();
    const err: unknown = await client.chat.completions.create({ model: MODEL, messages }, { timeout: 200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIConnectionTimeoutError);
    expect(performance.now() - start).toBeGreaterThanOrEqual(195);
    expect(performance.now() - start).toBeLessThan(600);
  });
});

describe('raw-sse, recording, queueing and shutdown', () => {
  it('raw-sse writes the given bytes exactly, each at its time', async () => {
    const euro = Buffer.from('data: {"x":"€"}\n\n');
    const writes = [
      { atMs: 0, data: ': comment\n\n' },
      { atMs: 40, data: euro.subarray(0, 13), output: true }, // split inside the multi-byte €
      { atMs: 80, data: euro.subarray(13) },
    ];
    server.enqueue({ kind: 'raw-sse', headers: { 'X-Custom': 'yes' }, writes });
    const res = await fetch(`${server.baseURL}/chat/completions`, { method: 'POST', body: '{}' });
    expect(res.headers.get('x-custom')).toBe('yes');
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.equals(Buffer.concat(writes.map((w) => Buffer.from(w.data))))).toBe(true);
    const t = server.timeline(0);
    const offsets = t.events.map((e) => e - server.requests[0]!.receivedAt);
    [0, 40, 80].forEach((due, i) => {
      expect(offsets[i]!).toBeGreaterThanOrEqual(due);
      expect(offsets[i]!).toBeLessThan(due + 5);
    });
    expect(t.firstOutputAt).toBe(t.events[1]);
  });

  it('requests records method, path without query, lower-cased headers and the parsed body', async () => {
    const withHeaders = new OpenAI({ baseURL: server.baseURL, apiKey: 'test', maxRetries: 0, defaultHeaders: { 'X-Trace': 'abc' } });
    await withHeaders.chat.completions.create({ model: MODEL, messages, temperature: 0 }, { query: { 'api-version': '1' } });
    await fetch(`${server.baseURL}/raw`, { method: 'POST', body: 'not json' });
    const [first, second] = server.requests;
    expect(first).toMatchObject({ method: 'POST', path: '/v1/chat/completions', body: { model: MODEL, messages, temperature: 0 } });
    expect(first!.headers['authorization']).toBe('Bearer test');
    expect(first!.headers['x-trace']).toBe('abc');
    expect(first!.headers['content-type']).toContain('application/json');
    expect(first!.receivedAt).toBeLessThanOrEqual(performance.now());
    expect(second).toMatchObject({ path: '/v1/raw', body: 'not json' });
  });

  it('queued scripts are taken in order, functions see the request, then the fallback applies', async () => {
    server.enqueue({ kind: 'json', content: 'one' }, (req, index) => ({
      kind: 'json',
      content: `two:${index}:${(req.body as { model: string }).model}`,
    }));
    server.setFallback({ kind: 'json', content: 'fallback' });
    const answers: (string | null | undefined)[] = [];
    for (let i = 0; i < 3; i++) {
      answers.push((await client.chat.completions.create({ model: MODEL, messages })).choices[0]?.message.content);
    }
    expect(answers).toEqual(['one', `two:1:${MODEL}`, 'fallback']);
    server.reset();
    expect(server.requests).toHaveLength(0);
    // After reset the default fallback streams when asked to.
    const { chunks } = await collectChat(await client.chat.completions.create({ model: MODEL, messages, stream: true }));
    expect(contents(chunks).join('')).toBe('Hello world');
    expect(() => server.timeline(5)).toThrow();
  });

  it('close() resolves promptly while a request hangs and a stream stalls', async () => {
    const own = await startScriptedServer();
    own.enqueue({ kind: 'hang' }, { kind: 'chat-stream', stallAfter: 1 });
    const c = new OpenAI({ baseURL: own.baseURL, apiKey: 'test', maxRetries: 0 });
    const hanging = c.chat.completions.create({ model: MODEL, messages }).catch((e: unknown) => e);
    await sleep(30);
    const stalled = await c.chat.completions.create({ model: MODEL, messages, stream: true });
    const stalledDone = collectChat(stalled).catch((e: unknown) => e);
    await sleep(30);
    const start = performance.now();
    await own.close();
    expect(performance.now() - start).toBeLessThan(200);
    expect(await hanging).toBeInstanceOf(APIConnectionError);
    expect(await stalledDone).toBeInstanceOf(Error);
  });
});
