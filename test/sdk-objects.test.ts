import OpenAI, { AzureOpenAI } from 'openai';
import { describe, expect, it } from 'vitest';
import { instrument } from '../src/index.js';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_STATUS_CODE,
  ATTR_OPERATION_NAME,
  ATTR_OUTCOME,
  ATTR_REQUEST_MODEL,
  ATTR_RESPONSE_MODEL,
  ATTR_TOKEN_TYPE,
  METRIC_ATTEMPTS,
  METRIC_OPERATION_DURATION,
  METRIC_REQUESTS,
  METRIC_TIME_TO_FIRST_CHUNK,
  METRIC_TIME_TO_FIRST_TOKEN,
  METRIC_TOKEN_USAGE,
  OPERATION_CHAT,
  OPERATION_EMBEDDINGS,
  OPERATION_TEXT_COMPLETION,
} from '../src/semconv.js';
import { CHAT, useHarness } from './support/harness.ts';
import type { Snapshot } from './support/metrics.ts';

const h = useHarness();
const ms = (s: number) => s * 1000;
const sleep = (n: number) => new Promise((r) => setTimeout(r, n));

/** Server-random values (ids, timestamps, request ids) replaced, so two responses can be compared. */
function normalize<T>(value: T): unknown {
  return JSON.parse(normalizeText(JSON.stringify(value)));
}
function normalizeText(text: string): string {
  return text
    .replace(/(chatcmpl-|cmpl-|call_|resp_|msg_|req_)[0-9a-f]{24}/g, '$1ID')
    .replace(/"(created|created_at)":\d+/g, '"$1":0');
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

const outcomes = (s: Snapshot) => ({
  success: s.sum(METRIC_REQUESTS, { [ATTR_OUTCOME]: 'success' }),
  error: s.sum(METRIC_REQUESTS, { [ATTR_OUTCOME]: 'error' }),
  cancelled: s.sum(METRIC_REQUESTS, { [ATTR_OUTCOME]: 'cancelled' }),
});

const tokens = (s: Snapshot, type: 'input' | 'output', match: Record<string, string | number | boolean> = {}) =>
  s.histogram(METRIC_TOKEN_USAGE, { ...match, [ATTR_TOKEN_TYPE]: type });

/** A chat SSE body written verbatim: a comment, an event split across two writes, usage-free. */
const CHUNK = (delta: string, finish: string | null = null) =>
  `{"id":"chatcmpl-fixed","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_x","choices":[{"index":0,"delta":${delta},"logprobs":null,"finish_reason":${finish === null ? 'null' : `"${finish}"`}}]}`;
const RAW_CHAT_SSE: string[] = [
  ': keep-alive\n\n',
  `data: ${CHUNK('{"role":"assistant","content":""}')}\n\n`,
  `data: ${CHUNK('{"content":"Hel"}')}\n\ndata: ${CHUNK('{"content":"lo"}').slice(0, 40)}`,
  `${CHUNK('{"content":"lo"}').slice(40)}\n\n`,
  `data: ${CHUNK('{}', 'stop')}\n\n`,
  'data: [DONE]\n\n',
];

describe('APIPromise helpers on an instrumented client', () => {
  it('withResponse() gives the parsed completion and the raw Response with its x-request-id, and the call is metered', async () => {
    h.server.enqueue({ kind: 'json', content: 'Hi there', headers: { 'x-request-id': 'req_scripted_1' } });
    const { data, response, request_id } = await h.client().chat.completions.create(CHAT).withResponse();
    expect(data.choices[0]!.message.content).toBe('Hi there');
    expect(response).toBeInstanceOf(Response);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('req_scripted_1');
    expect(request_id).toBe('req_scripted_1');
    const s = await h.finished();
    expect(outcomes(s)).toEqual({ success: 1, error: 0, cancelled: 0 });
  });

  it('withResponse() on a stream gives a working Stream and the Response headers', async () => {
    h.server.enqueue({ kind: 'chat-stream', chunks: ['a', 'b', 'c'], headers: { 'x-request-id': 'req_stream_1' } });
    const { data: stream, response } = await h.client().chat.completions.create({ ...CHAT, stream: true }).withResponse();
    expect(response.headers.get('x-request-id')).toBe('req_stream_1');
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const chunks = await collect(stream);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('abc');
    const s = await h.finished();
    expect(outcomes(s)).toEqual({ success: 1, error: 0, cancelled: 0 });
    expect(s.histogram(METRIC_TIME_TO_FIRST_TOKEN).count).toBe(1);
  });

  it('asResponse() hands the app a non-streamed body it reads itself, byte for byte, and the call is still metered', async () => {
    const body = JSON.stringify({
      id: 'chatcmpl-fixed', object: 'chat.completion', created: 1700000000, model: 'gpt-4o-2024-08-06',
      choices: [{ index: 0, message: { role: 'assistant', content: 'raw', refusal: null }, logprobs: null, finish_reason: 'stop' }],
      usage: { prompt_tokens: 31, completion_tokens: 7, total_tokens: 38 },
    });
    h.server.enqueue({ kind: 'json', body });
    const res = await h.client().chat.completions.create(CHAT).asResponse();
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(body);
    const s = await h.finished();
    expect(outcomes(s)).toEqual({ success: 1, error: 0, cancelled: 0 });
    expect(tokens(s, 'input').sum).toBe(31);
    expect(tokens(s, 'output').sum).toBe(7);
    expect(s.points(METRIC_REQUESTS, { [ATTR_RESPONSE_MODEL]: 'gpt-4o-2024-08-06' })).toHaveLength(1);
  });

  it('asResponse() on a stream with injection off gives the app exactly the bytes the server sent, and records TTFT', async () => {
    h.server.enqueue({
      kind: 'raw-sse',
      writes: RAW_CHAT_SSE.map((data, i) => ({ atMs: i === 0 ? 0 : 20 + i * 5, data, output: i === 2 })),
    });
    const res = await h.client({ injectStreamUsage: false }).chat.completions.create({ ...CHAT, stream: true }).asResponse();
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    expect(await res.text()).toBe(RAW_CHAT_SSE.join(''));
    expect(h.server.requests[0]!.body).not.toHaveProperty('stream_options');
    const s = await h.finished();
    expect(outcomes(s)).toEqual({ success: 1, error: 0, cancelled: 0 });
    expect(ms(s.histogram(METRIC_TIME_TO_FIRST_TOKEN).sum)).toBeGreaterThanOrEqual(29);
  });

  it('asResponse() on a stream whose app asked for usage itself gives the exact server bytes, usage chunk included', async () => {
    const withUsage = [
      ...RAW_CHAT_SSE.slice(0, -1).map((w) => w.replace(/\}\]\}/g, '}],"usage":null}')),
      `data: {"id":"chatcmpl-fixed","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini-2024-07-18","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}\n\n`,
      'data: [DONE]\n\n',
    ];
    h.server.enqueue({ kind: 'raw-sse', writes: withUsage.map((data, i) => ({ atMs: i * 3, data })) });
    const res = await h
      .client()
      .chat.completions.create({ ...CHAT, stream: true, stream_options: { include_usage: true } })
      .asResponse();
    expect(await res.text()).toBe(withUsage.join(''));
    const s = await h.finished();
    expect(outcomes(s).success).toBe(1);
    expect(tokens(s, 'input').sum).toBe(9);
    expect(tokens(s, 'output').sum).toBe(2);
  });

  it('asResponse() on a stream with injection on gives the app the SSE text a bare client would get (ids aside)', async () => {
    h.server.enqueue({ kind: 'chat-stream', chunks: ['x', 'y'], usage: { input: 4, output: 2 } });
    h.server.enqueue({ kind: 'chat-stream', chunks: ['x', 'y'], usage: { input: 4, output: 2 } });
    const bare = await (await h.bare().chat.completions.create({ ...CHAT, stream: true }).asResponse()).text();
    const metered = await (await h.client().chat.completions.create({ ...CHAT, stream: true }).asResponse()).text();
    expect(h.server.requests[1]!.body).toMatchObject({ stream_options: { include_usage: true } });
    expect(normalizeText(metered)).toBe(normalizeText(bare));
    const s = await h.finished();
    expect(tokens(s, 'output').sum).toBe(2);
  });

  it('chat.completions.parse() still parses structured output, and is metered', async () => {
    h.server.enqueue({ kind: 'json', content: '{"city":"Paris"}', usage: { input: 11, output: 5 } });
    const parsed = await h.client().chat.completions.parse({
      ...CHAT,
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'place', strict: true,
          schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
        },
      },
    });
    expect(parsed.choices[0]!.message.parsed).toEqual({ city: 'Paris' });
    const s = await h.finished();
    expect(outcomes(s).success).toBe(1);
    expect(tokens(s, 'output').sum).toBe(5);
  });
});

describe('the SDK Stream object', () => {
  it('has a controller, and controller.abort() mid-stream ends the iteration quietly and records cancelled', async () => {
    h.server.enqueue({ kind: 'chat-stream', ttftMs: 10, gapMs: 30, chunks: Array.from({ length: 10 }, (_, i) => `c${i}`) });
    const stream = await h.client().chat.completions.create({ ...CHAT, stream: true });
    expect(stream.controller).toBeInstanceOf(AbortController);
    const seen: string[] = [];
    const iterate = async () => {
      for await (const chunk of stream) {
        const content = chunk.choices[0]?.delta.content;
        if (content) seen.push(content);
        if (seen.length === 2) stream.controller.abort();
      }
    };
    await expect(iterate()).resolves.toBeUndefined();
    expect(seen.length).toBeLessThan(10);
    const s = await h.finished();
    expect(outcomes(s)).toEqual({ success: 0, error: 0, cancelled: 1 });
  });

  it('behaves like the bare SDK on controller.abort(): same chunks seen, no error thrown', async () => {
    const script = { kind: 'chat-stream' as const, ttftMs: 10, gapMs: 30, chunks: Array.from({ length: 8 }, (_, i) => `c${i}`) };
    h.server.enqueue(script, script);
    const run = async (client: OpenAI) => {
      const stream = await client.chat.completions.create({ ...CHAT, stream: true });
      const seen: string[] = [];
      let thrown: unknown;
      try {
        for await (const chunk of stream) {
          const content = chunk.choices[0]?.delta.content;
          if (content) seen.push(content);
          if (seen.length === 3) stream.controller.abort();
        }
      } catch (error) {
        thrown = error;
      }
      return { seen, thrown };
    };
    const bare = await run(h.bare());
    const metered = await run(h.client());
    expect(metered).toEqual(bare);
    expect(metered.thrown).toBeUndefined();
  });

  it('tee() gives two branches that both see every chunk, and the request is metered once', async () => {
    h.server.enqueue({ kind: 'chat-stream', ttftMs: 10, gapMs: 5, chunks: ['a', 'b', 'c', 'd', 'e'] });
    const stream = await h.client().chat.completions.create({ ...CHAT, stream: true });
    const [left, right] = stream.tee();
    const [l, r] = await Promise.all([collect(left), collect(right)]);
    expect(l.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('abcde');
    expect(r).toEqual(l);
    await h.finished();
    await sleep(50); // nothing else may arrive
    const s = await h.collect();
    expect(s.sum(METRIC_REQUESTS)).toBe(1);
    expect(outcomes(s).success).toBe(1);
    expect(s.sum(METRIC_ATTEMPTS)).toBe(1);
    expect(s.histogram(METRIC_TIME_TO_FIRST_TOKEN).count).toBe(1);
  });

  it('tee() with one branch never read and the other read to the end records success', async () => {
    h.server.enqueue({ kind: 'chat-stream', ttftMs: 5, gapMs: 5, chunks: ['a', 'b', 'c'] });
    const stream = await h.client().chat.completions.create({ ...CHAT, stream: true });
    const [left] = stream.tee();
    const l = await collect(left);
    expect(l.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('abc');
    const s = await h.finished();
    expect(outcomes(s)).toEqual({ success: 1, error: 0, cancelled: 0 });
  });

  it('tee() with one branch left early (break) and the other read to the end records success', async () => {
    h.server.enqueue({ kind: 'chat-stream', ttftMs: 5, gapMs: 10, chunks: ['a', 'b', 'c', 'd'] });
    const stream = await h.client().chat.completions.create({ ...CHAT, stream: true });
    const [left, right] = stream.tee();
    for await (const _ of right) break;
    const l = await collect(left);
    expect(l.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('abcd');
    const s = await h.finished();
    expect(outcomes(s)).toEqual({ success: 1, error: 0, cancelled: 0 });
  });

  it('toReadableStream() works and carries the same chunks the bare SDK yields', async () => {
    const script = { kind: 'chat-stream' as const, chunks: ['p', 'q', 'r'] };
    h.server.enqueue(script, script);
    const bare = await collect(await h.bare().chat.completions.create({ ...CHAT, stream: true }));
    const stream = await h.client().chat.completions.create({ ...CHAT, stream: true });
    const readable = stream.toReadableStream() as ReadableStream<Uint8Array>;
    const text = await new Response(readable).text();
    const lines = text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as unknown);
    expect(lines.length).toBe(bare.length);
    expect(normalize(lines)).toEqual(normalize(bare));
    const s = await h.finished();
    expect(outcomes(s)).toEqual({ success: 1, error: 0, cancelled: 0 });
  });
});

describe('SDK helpers keep working and are metered', () => {
  it('chat.completions.stream(): events and finalChatCompletion() work; TTFT and tokens are recorded', async () => {
    h.server.enqueue({ kind: 'chat-stream', ttftMs: 40, gapMs: 5, chunks: ['Hel', 'lo'], usage: { input: 13, output: 2 } });
    const runner = h.client().chat.completions.stream({ ...CHAT });
    const deltas: string[] = [];
    runner.on('content', (delta) => deltas.push(delta));
    const final = await runner.finalChatCompletion();
    expect(deltas.join('')).toBe('Hello');
    expect(final.choices[0]!.message.content).toBe('Hello');
    const s = await h.finished();
    expect(outcomes(s)).toEqual({ success: 1, error: 0, cancelled: 0 });
    expect(ms(s.histogram(METRIC_TIME_TO_FIRST_TOKEN).sum)).toBeGreaterThanOrEqual(39);
    expect(tokens(s, 'input').sum).toBe(13);
    expect(tokens(s, 'output').sum).toBe(2);
  });

  it('chat.completions.runTools() calls the tool, sends its result back, and meters both requests', async () => {
    h.server.enqueue(
      { kind: 'chat-stream', toolCall: { name: 'lookup' }, chunks: ['{"q":', '"x"}'], usage: { input: 20, output: 2 } },
      { kind: 'chat-stream', chunks: ['Found', ' it'], usage: { input: 30, output: 2 } },
    );
    const calls: unknown[] = [];
    const runner = h.client().chat.completions.runTools({
      ...CHAT,
      stream: true,
      tools: [
        {
          type: 'function',
          function: {
            name: 'lookup',
            description: 'Looks something up',
            parameters: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] },
            parse: (input: string) => JSON.parse(input) as { q: string },
            function: (args: { q: string }) => {
              calls.push(args);
              return 'the answer';
            },
          },
        },
      ],
    });
    expect(await runner.finalContent()).toBe('Found it');
    expect(calls).toEqual([{ q: 'x' }]);
    expect(h.server.requests).toHaveLength(2);
    const second = h.server.requests[1]!.body as { messages: Array<{ role: string; content?: unknown }> };
    expect(second.messages.at(-1)).toMatchObject({ role: 'tool', content: 'the answer' });
    const s = await h.finished(2);
    expect(outcomes(s)).toEqual({ success: 2, error: 0, cancelled: 0 });
    expect(s.histogram(METRIC_TIME_TO_FIRST_TOKEN).count).toBe(2);
    expect(tokens(s, 'input').sum).toBe(50);
    expect(tokens(s, 'output').sum).toBe(4);
  });

  it('responses.stream(): events and finalResponse() work; TTFT and tokens are recorded', async () => {
    h.server.enqueue({ kind: 'responses-stream', ttftMs: 40, gapMs: 5, chunks: ['Hi', ' you'], usage: { input: 15, output: 2 } });
    const rs = h.client().responses.stream({ model: 'gpt-4o-mini', input: 'Say hi' });
    const deltas: string[] = [];
    rs.on('response.output_text.delta', (event) => deltas.push(event.delta));
    const final = await rs.finalResponse();
    expect(deltas.join('')).toBe('Hi you');
    expect(final.output_text).toBe('Hi you');
    const s = await h.finished();
    expect(outcomes(s)).toEqual({ success: 1, error: 0, cancelled: 0 });
    expect(s.points(METRIC_REQUESTS, { [ATTR_OPERATION_NAME]: OPERATION_CHAT })).toHaveLength(1);
    expect(ms(s.histogram(METRIC_TIME_TO_FIRST_TOKEN).sum)).toBeGreaterThanOrEqual(39);
    expect(tokens(s, 'input').sum).toBe(15);
    expect(tokens(s, 'output').sum).toBe(2);
  });

  it('responses.create({stream: true}) yields every event, identical to the bare SDK, and is metered', async () => {
    const script = { kind: 'responses-stream' as const, chunks: ['a', 'b', 'c'], usage: { input: 8, output: 3 } };
    h.server.enqueue(script, script);
    const bare = await collect(await h.bare().responses.create({ model: 'gpt-4o-mini', input: 'x', stream: true }));
    const metered = await collect(await h.client().responses.create({ model: 'gpt-4o-mini', input: 'x', stream: true }));
    expect(metered.filter((e) => e.type === 'response.output_text.delta')).toHaveLength(3);
    expect(metered.at(-1)!.type).toBe('response.completed');
    expect(normalize(metered)).toEqual(normalize(bare));
    const s = await h.finished();
    expect(outcomes(s)).toEqual({ success: 1, error: 0, cancelled: 0 });
    expect(s.histogram(METRIC_TIME_TO_FIRST_TOKEN).count).toBe(1);
    expect(tokens(s, 'input').sum).toBe(8);
    expect(tokens(s, 'output').sum).toBe(3);
  });

  it('non-streaming responses.create() returns the response (output_text) and records duration, tokens and model', async () => {
    h.server.enqueue({ kind: 'json', delayMs: 30, content: 'Done.', model: 'gpt-4.1-2025-04-14', usage: { input: 40, output: 6 } });
    const response = await h.client().responses.create({ model: 'gpt-4.1', input: 'x' });
    expect(response.output_text).toBe('Done.');
    const s = await h.finished();
    expect(outcomes(s)).toEqual({ success: 1, error: 0, cancelled: 0 });
    const attrs = { [ATTR_OPERATION_NAME]: OPERATION_CHAT, [ATTR_REQUEST_MODEL]: 'gpt-4.1', [ATTR_RESPONSE_MODEL]: 'gpt-4.1-2025-04-14' };
    expect(s.points(METRIC_REQUESTS, attrs)).toHaveLength(1);
    expect(ms(s.histogram(METRIC_OPERATION_DURATION, attrs).sum)).toBeGreaterThanOrEqual(29);
    expect(tokens(s, 'input', attrs).sum).toBe(40);
    expect(tokens(s, 'output', attrs).sum).toBe(6);
  });
});

describe('non-streamed calls and legacy completions', () => {
  it('chat.completions.create() without stream records duration, input/output tokens, success and the response model', async () => {
    h.server.enqueue({ kind: 'json', delayMs: 40, model: 'gpt-4o-2024-08-06', usage: { input: 17, output: 9 } });
    const completion = await h.client().chat.completions.create({ ...CHAT, model: 'gpt-4o' });
    expect(completion.choices[0]!.message.content).toBe('Hello world');
    const s = await h.finished();
    const attrs = { [ATTR_OPERATION_NAME]: OPERATION_CHAT, [ATTR_RESPONSE_MODEL]: 'gpt-4o-2024-08-06', [ATTR_REQUEST_MODEL]: 'gpt-4o' };
    expect(s.sum(METRIC_REQUESTS, { ...attrs, [ATTR_OUTCOME]: 'success' })).toBe(1);
    const duration = s.histogram(METRIC_OPERATION_DURATION, attrs);
    expect(duration.count).toBe(1);
    expect(ms(duration.sum)).toBeGreaterThanOrEqual(39);
    expect(ms(duration.sum)).toBeLessThan(200);
    expect(tokens(s, 'input', attrs).sum).toBe(17);
    expect(tokens(s, 'output', attrs).sum).toBe(9);
    // Nothing streamed: no streaming timings.
    expect(s.histogram(METRIC_TIME_TO_FIRST_TOKEN).count).toBe(0);
    expect(s.histogram(METRIC_TIME_TO_FIRST_CHUNK).count).toBe(0);
  });

  it('embeddings.create() records duration, input tokens, success and the response model', async () => {
    h.server.enqueue({ kind: 'json', delayMs: 20, usage: { input: 6, output: 0 } });
    const result = await h.client().embeddings.create({ model: 'text-embedding-3-small', input: 'hello', encoding_format: 'float' });
    expect(result.data[0]!.embedding).toEqual([0.1, 0.2, 0.3]);
    const s = await h.finished();
    const attrs = { [ATTR_OPERATION_NAME]: OPERATION_EMBEDDINGS, [ATTR_RESPONSE_MODEL]: 'text-embedding-3-small' };
    expect(s.sum(METRIC_REQUESTS, { ...attrs, [ATTR_OUTCOME]: 'success' })).toBe(1);
    expect(ms(s.histogram(METRIC_OPERATION_DURATION, attrs).sum)).toBeGreaterThanOrEqual(19);
    expect(tokens(s, 'input', attrs).sum).toBe(6);
    expect(tokens(s, 'output').count).toBe(0);
  });

  it('embeddings.create() with the SDK default (base64) encoding still returns floats and is metered', async () => {
    const b64 = Buffer.from(new Float32Array([0.5, -1]).buffer).toString('base64');
    h.server.enqueue({
      kind: 'json',
      body: { object: 'list', data: [{ object: 'embedding', index: 0, embedding: b64 }], model: 'text-embedding-3-small', usage: { prompt_tokens: 3, total_tokens: 3 } },
    });
    const result = await h.client().embeddings.create({ model: 'text-embedding-3-small', input: 'hello' });
    expect(result.data[0]!.embedding).toEqual([0.5, -1]);
    const s = await h.finished();
    expect(outcomes(s).success).toBe(1);
    expect(tokens(s, 'input').sum).toBe(3);
  });

  it('legacy completions.create({stream: true}) records TTFT and tokens as a text_completion', async () => {
    h.server.enqueue({ kind: 'chat-stream', ttftMs: 60, gapMs: 5, chunks: ['one', ' two', ' three'], usage: { input: 7, output: 3 } });
    const stream = await h.client().completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'Count', stream: true });
    const texts = (await collect(stream)).map((c) => c.choices[0]?.text ?? '');
    expect(texts.join('')).toBe('one two three');
    const s = await h.finished();
    const attrs = { [ATTR_OPERATION_NAME]: OPERATION_TEXT_COMPLETION };
    expect(s.sum(METRIC_REQUESTS, { ...attrs, [ATTR_OUTCOME]: 'success' })).toBe(1);
    const serverTtft = h.server.timeline(0).firstOutputAt! - h.server.requests[0]!.receivedAt;
    const ttft = s.histogram(METRIC_TIME_TO_FIRST_TOKEN, attrs);
    expect(ttft.count).toBe(1);
    expect(ms(ttft.sum)).toBeGreaterThanOrEqual(serverTtft - 1);
    expect(ms(ttft.sum)).toBeLessThan(serverTtft + 25);
    expect(tokens(s, 'input', attrs).sum).toBe(7);
    expect(tokens(s, 'output', attrs).sum).toBe(3);
  });
});

describe('client identity, subclasses and copies', () => {
  it('instrument() returns a different instance of the same class', () => {
    const bare = h.bare();
    const client = instrument(bare, { meterProvider: h.meterProvider });
    expect(client).toBeInstanceOf(OpenAI);
    expect(Object.getPrototypeOf(client)).toBe(Object.getPrototypeOf(bare));
    expect(client).not.toBe(bare);
  });

  it('instrument() leaves the original client unchanged: its requests are neither metered nor rewritten', async () => {
    const original = h.bare();
    const client = instrument(original, { meterProvider: h.meterProvider });
    await collect(await original.chat.completions.create({ ...CHAT, stream: true }));
    await original.chat.completions.create(CHAT);
    expect(h.server.requests[0]!.body).not.toHaveProperty('stream_options');
    await collect(await client.chat.completions.create({ ...CHAT, stream: true }));
    await h.finished(1);
    await sleep(50);
    const s = await h.collect();
    expect(s.sum(METRIC_REQUESTS)).toBe(1);
    expect(s.sum(METRIC_ATTEMPTS)).toBe(1);
  });

  it('instrumenting an instrumented client does not double count', async () => {
    const once = h.client();
    const twice = instrument(once, { meterProvider: h.meterProvider });
    expect(twice).toBeInstanceOf(OpenAI);
    await collect(await twice.chat.completions.create({ ...CHAT, stream: true }));
    await twice.chat.completions.create(CHAT);
    await h.finished(2);
    await sleep(50);
    const s = await h.collect();
    expect(s.sum(METRIC_REQUESTS)).toBe(2);
    expect(s.sum(METRIC_ATTEMPTS)).toBe(2);
    expect(tokens(s, 'output').count).toBe(2);
  });

  it('instrumenting a withOptions() copy of an instrumented client does not double count', async () => {
    const copy = h.client().withOptions({ timeout: 10_000 });
    const again = instrument(copy, { meterProvider: h.meterProvider });
    await collect(await again.chat.completions.create({ ...CHAT, stream: true }));
    await h.finished(1);
    await sleep(50);
    const s = await h.collect();
    expect(s.sum(METRIC_REQUESTS)).toBe(1);
    expect(s.sum(METRIC_ATTEMPTS)).toBe(1);
  });

  it('withOptions() on an instrumented client keeps the metered fetch', async () => {
    const client = h.client().withOptions({ timeout: 10_000 });
    expect(client).toBeInstanceOf(OpenAI);
    h.server.enqueue({ kind: 'chat-stream', ttftMs: 30, usage: { input: 5, output: 4 } });
    await collect(await client.chat.completions.create({ ...CHAT, stream: true }));
    expect(h.server.requests[0]!.body).toMatchObject({ stream_options: { include_usage: true } });
    const s = await h.finished();
    expect(outcomes(s)).toEqual({ success: 1, error: 0, cancelled: 0 });
    expect(ms(s.histogram(METRIC_TIME_TO_FIRST_TOKEN).sum)).toBeGreaterThanOrEqual(29);
    expect(tokens(s, 'output').sum).toBe(4);
  });

  it('a withOptions() copy of an instrumented client still counts a retried request once', async () => {
    h.server.enqueue({ kind: 'json', status: 429, headers: { 'retry-after-ms': '1' } }, { kind: 'json' });
    const client = h.client({}, { maxRetries: 2 }).withOptions({ timeout: 10_000 });
    const completion = await client.chat.completions.create(CHAT);
    expect(completion.choices[0]!.message.content).toBe('Hello world');
    expect(h.server.requests).toHaveLength(2);
    await h.finished(1);
    await sleep(50);
    const s = await h.collect();
    expect(s.sum(METRIC_REQUESTS)).toBe(1);
    expect(outcomes(s).success).toBe(1);
    expect(s.sum(METRIC_ATTEMPTS, { [ATTR_HTTP_STATUS_CODE]: 429 })).toBe(1);
    expect(s.sum(METRIC_ATTEMPTS, { [ATTR_HTTP_STATUS_CODE]: 200 })).toBe(1);
    expect(s.points(METRIC_REQUESTS, { [ATTR_ERROR_TYPE]: '429' })).toHaveLength(0);
  });

  it('an AzureOpenAI client is instrumented as an AzureOpenAI, and its deployment-scoped calls are metered', async () => {
    const azure = new AzureOpenAI({
      endpoint: `http://127.0.0.1:${h.server.port}`,
      apiKey: 'azure-key',
      apiVersion: '2024-10-21',
      deployment: 'my-deployment',
      maxRetries: 0,
    });
    const client = instrument(azure, { meterProvider: h.meterProvider });
    expect(client).toBeInstanceOf(AzureOpenAI);
    h.server.enqueue({ kind: 'chat-stream', ttftMs: 20, emptyChoicesFirst: true, usage: { input: 3, output: 4 } });
    const chunks = await collect(await client.chat.completions.create({ ...CHAT, stream: true }));
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Hello world');
    expect(h.server.requests[0]!.path).toBe('/openai/deployments/my-deployment/chat/completions');
    const s = await h.finished();
    expect(outcomes(s)).toEqual({ success: 1, error: 0, cancelled: 0 });
    expect(s.histogram(METRIC_TIME_TO_FIRST_TOKEN).count).toBe(1);
    expect(tokens(s, 'output').sum).toBe(4);
  });

  it('withOptions() on an instrumented AzureOpenAI client keeps it an AzureOpenAI and keeps metering', async () => {
    const azure = new AzureOpenAI({
      endpoint: `http://127.0.0.1:${h.server.port}`, apiKey: 'azure-key', apiVersion: '2024-10-21', deployment: 'dep', maxRetries: 0,
    });
    const client = instrument(azure, { meterProvider: h.meterProvider }).withOptions({ timeout: 5_000 });
    expect(client).toBeInstanceOf(AzureOpenAI);
    await client.chat.completions.create(CHAT);
    expect(h.server.requests[0]!.path).toBe('/openai/deployments/dep/chat/completions');
    const s = await h.finished();
    expect(outcomes(s).success).toBe(1);
    expect(tokens(s, 'input').sum).toBe(12);
  });
});

describe('app-visible chunks are identical with and without inferometer', () => {
  const cases: Array<[string, Parameters<typeof h.server.enqueue>[0], Record<string, unknown>]> = [
    ['plain content, injection on', { kind: 'chat-stream', chunks: ['a', 'b', 'c'] }, {}],
    ['batched writes (several events per network chunk)', { kind: 'chat-stream', chunks: ['a', 'b', 'c', 'd'], batch: 3 }, {}],
    ['tool-call arguments', { kind: 'chat-stream', toolCall: { name: 'f' }, chunks: ['{"a"', ':1}'] }, {}],
    ['reasoning then content', { kind: 'chat-stream', reasoning: ['hm', 'm'], chunks: ['ok'] }, {}],
    ['Azure-style empty-choices first chunk', { kind: 'chat-stream', emptyChoicesFirst: true, chunks: ['z'] }, {}],
    ['other stream_options set by the app', { kind: 'chat-stream', chunks: ['a'] }, { stream_options: { include_obfuscation: false } }],
    ['app asked for usage itself', { kind: 'chat-stream', chunks: ['a', 'b'] }, { stream_options: { include_usage: true } }],
  ];
  for (const [name, script, extra] of cases) {
    it(`chat stream: ${name}`, async () => {
      h.server.enqueue(script, script);
      const bare = await collect(await h.bare().chat.completions.create({ ...CHAT, ...extra, stream: true } as OpenAI.ChatCompletionCreateParamsStreaming));
      const metered = await collect(await h.client().chat.completions.create({ ...CHAT, ...extra, stream: true } as OpenAI.ChatCompletionCreateParamsStreaming));
      expect(bare.length).toBeGreaterThan(0);
      expect(normalize(metered)).toEqual(normalize(bare));
      const s = await h.finished();
      expect(outcomes(s).success).toBe(1);
    });
  }

  it('legacy completions stream, injection on', async () => {
    const script = { kind: 'chat-stream' as const, chunks: ['x', 'y'] };
    h.server.enqueue(script, script);
    const bare = await collect(await h.bare().completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'p', stream: true }));
    const metered = await collect(await h.client().completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'p', stream: true }));
    expect(h.server.requests[1]!.body).toMatchObject({ stream_options: { include_usage: true } });
    expect(normalize(metered)).toEqual(normalize(bare));
    const s = await h.finished();
    expect(tokens(s, 'output').sum).toBe(2);
  });
});
