import { describe, expect, it } from 'vitest';
import { ERROR_NOT_EVENT_STREAM, ERROR_STREAM_INTERRUPTED } from '../src/index.js';
import { captureDiag, outcomes } from './robustness/support.ts';
import { CHAT, useHarness } from './support/harness.ts';
import type { RawSseScript } from './support/scripted-server.ts';

/*
 * How a streamed body ends, and what the app and the record make of it: a last event without
 * its blank line, a `[DONE]` that is not quite one, and bodies that are not SSE at all. For each,
 * the app gets what the bare SDK gives it, and the record ends once with an honest outcome and no
 * false alarm in `diag`.
 */

const h = useHarness();
const logs = captureDiag();

const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

const ROLE = chunk({ role: 'assistant', content: '' });
const HELLO = chunk({ content: 'Hello' });
const FINISH = chunk({}, 'stop');

/** What the app sees of a streamed call: its chunks' content, or what it threw. */
async function appSees(client: ReturnType<typeof h.bare>): Promise<{ contents: string[]; thrown: string | undefined }> {
  const contents: string[] = [];
  try {
    const stream = await client.chat.completions.create({ ...CHAT, stream: true });
    for await (const c of stream) contents.push(c.choices[0]?.delta?.content ?? '');
    return { contents, thrown: undefined };
  } catch (error) {
    return { contents, thrown: (error as Error).constructor.name };
  }
}

/** The same script served to the bare SDK and to the metered one, in both usage modes. */
async function compare(script: RawSseScript, injectStreamUsage: boolean) {
  h.server.enqueue(script, script);
  const bare = await appSees(h.bare());
  const metered = await appSees(h.client({ injectStreamUsage }));
  return { bare, metered, s: await h.finished() };
}

const failures = () => logs.filter((line) => line.includes('failed'));

describe.each([true, false])('a streamed body (usage injected: %s)', (injectStreamUsage) => {
  it('ending in `data: [DONE]` without the blank line is a success, and no false alarm', async () => {
    const { bare, metered, s } = await compare(
      { kind: 'raw-sse', writes: [{ atMs: 0, data: ROLE }, { atMs: 5, data: HELLO, output: true }, { atMs: 10, data: FINISH }, { atMs: 15, data: 'data: [DONE]' }] },
      injectStreamUsage,
    );
    expect(metered).toEqual(bare);
    expect(metered.contents).toContain('Hello');
    expect(outcomes(s)).toEqual({ success: 1 });
    expect(failures()).toEqual([]);
  });

  it('ending in `data: [DONE] ` (a trailing space, which the SDK does not take for [DONE]) after output is stream_interrupted', async () => {
    const { bare, metered, s } = await compare(
      { kind: 'raw-sse', writes: [{ atMs: 0, data: ROLE }, { atMs: 5, data: HELLO, output: true }, { atMs: 15, data: 'data: [DONE] ' }] },
      injectStreamUsage,
    );
    expect(metered).toEqual(bare);
    
    expect(s.sum('inferometer.requests', { 'error.type': ERROR_STREAM_INTERRUPTED })).toBe(1);
    expect(failures()).toEqual([]);
  });

  it.each([
    ['JSON', 'application/json', JSON.stringify({ id: 'c', object: 'chat.completion', model: 'gpt-4o-mini', choices: [{ index: 0, message: { role: 'assistant', content: 'Hello' }, finish_reason: 'stop' }], usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 } })],
    ['plain text', 'text/plain', 'upstream says hello\n'],
    ['HTML', 'text/html; charset=utf-8', '<!doctype html><html><body><h1>502 Bad Gateway</h1></body></html>\n'],
  ])('that is %s, not SSE, is an error of type not_event_stream: the app got none of the chunks it asked for', async (_name, type, body) => {
    const { bare, metered, s } = await compare(
      { kind: 'raw-sse', headers: { 'content-type': type }, writes: [{ atMs: 0, data: body }] },
      injectStreamUsage,
    );
    expect(metered).toEqual(bare);
    expect(metered.contents).toEqual([]);
    
    expect(s.sum('inferometer.requests', { 'error.type': ERROR_NOT_EVENT_STREAM })).toBe(1);
    // Nothing was generated for the app: no tokens, no time to first token.
    expect(s.histogram('gen_ai.client.token.usage').count).toBe(0);
    expect(s.histogram('inferometer.time_to_first_token').count).toBe(0);
    expect(failures()).toEqual([]);
  });

  it('that is empty is stream_interrupted, not not_event_stream', async () => {
    const { bare, metered, s } = await compare({ kind: 'raw-sse', writes: [], end: 'end' }, injectStreamUsage);
    expect(metered).toEqual(bare);
    expect(s.sum('inferometer.requests', { 'error.type': ERROR_STREAM_INTERRUPTED })).toBe(1);
  });
});

describe('a long event, while usage is hidden', () => {
  it('still has its "usage":null member cut out when the member arrives before the event ends', async () => {
    // The server as it answers with and without `stream_options.include_usage`.
    const sse = (usage: boolean) => {
      const chunk = (content: string, finish: string | null) =>
        `{"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"${content}"},"finish_reason":${finish === null ? 'null' : `"${finish}"`}}]${usage ? ',"usage":null' : ''}`;
      const big = chunk('x'.repeat(300 * 1024), null);
      return {
        kind: 'raw-sse' as const,
        writes: [
          { atMs: 0, data: ROLE },
          // The big event up to its last `}`, then, a moment later, the rest of it.
          { atMs: 5, data: `data: ${big}`, output: true },
          { atMs: 30, data: '}\n\n' },
          { atMs: 35, data: `data: ${chunk('', 'stop')}}\n\n` },
          ...(usage ? [{ atMs: 35, data: 'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}\n\n' }] : []),
          { atMs: 40, data: 'data: [DONE]\n\n' },
        ],
      };
    };
    h.server.enqueue(sse(false), sse(true));
    const seen = async (client: ReturnType<typeof h.bare>) => {
      const chunks = [];
      for await (const c of await client.chat.completions.create({ ...CHAT, stream: true })) chunks.push(c);
      return chunks;
    };
    const bare = await seen(h.bare());
    const metered = await seen(h.client());
    expect(h.server.requests[1]!.body).toMatchObject({ stream_options: { include_usage: true } });
    expect(metered).toEqual(bare);
    expect(metered.some((c) => 'usage' in c)).toBe(false);
    const s = await h.finished();
    expect(s.histogram('gen_ai.client.token.usage', { 'gen_ai.token.type': 'output' }).sum).toBe(1);
    expect(logs.filter((line) => line.includes('usage data'))).toEqual([]);
  });

  it('reaches the app as it arrives, not held back until it ends (all but its last 16 KiB)', async () => {
    const { meteredFetch } = await import('../src/index.js');
    const head = `data: {"choices":[{"index":0,"delta":{"content":"${'z'.repeat(256 * 1024)}`;
    // The head of one event, then nothing: the bare SDK's decoder has these bytes now.
    h.server.enqueue({ kind: 'raw-sse', writes: [{ atMs: 0, data: head }], end: 'hang' });
    const fetch = meteredFetch({ meterProvider: h.meterProvider });
    const response = await fetch(`${h.server.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...CHAT, stream: true }),
    });
    expect((h.server.requests[0]!.body as { stream_options?: unknown }).stream_options).toEqual({ include_usage: true });
    const reader = response.body!.getReader();
    let received = 0;
    while (received < head.length - 16 * 1024) received += (await reader.read()).value!.byteLength;
    expect(received).toBeLessThanOrEqual(head.length);
    await reader.cancel();
    expect(outcomes(await h.finished())).toEqual({ cancelled: 1 });
  });
});
