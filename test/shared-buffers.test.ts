import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { instrument } from '../src/index.js';
import { createTestMeter } from './support/metrics.ts';

/*
 * inferometer cuts the usage it asked for out of a network chunk in place, but only out of chunks
 * nobody else holds: those of a response the platform's fetch made. An app's own fetch may build
 * its Response from buffers it keeps (a replaying cache, a test double): those must reach the app
 * cut as always, and stay exactly as they were.
 */

const CHUNK = (content: string, usage: boolean) =>
  `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"${content}"},"finish_reason":null}]${usage ? ',"usage":null' : ''}}\n\n`;

/** A fetch that replays the same Uint8Arrays for every call, 3 events per chunk, as a cache would. */
function replayingFetch() {
  const build = (usage: boolean) => {
    const text = ['a', 'b', 'c', 'd', 'e', 'f'].map((c) => CHUNK(c, usage)).join('') + (usage ? 'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":6,"total_tokens":9}}\n\n' : '') + 'data: [DONE]\n\n';
    const bytes = new TextEncoder().encode(text);
    // Cut mid-event too, so that an event spans two chunks.
    return [bytes.slice(0, 400), bytes.slice(400, 900), bytes.slice(900)];
  };
  const shared = { plain: build(false), usage: build(true) };
  const pristine = { plain: shared.plain.map((b) => b.slice()), usage: shared.usage.map((b) => b.slice()) };
  const fetch = async (_input: unknown, init?: RequestInit): Promise<Response> => {
    const usage = JSON.parse(String(init?.body)).stream_options?.include_usage === true;
    const chunks = usage ? shared.usage : shared.plain;
    let i = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (i < chunks.length) controller.enqueue(chunks[i++]!);
        else controller.close();
      },
    });
    return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
  };
  return { fetch, shared, pristine };
}

async function contents(client: OpenAI): Promise<string[]> {
  const out: string[] = [];
  const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream: true });
  for await (const chunk of stream) {
    expect(chunk).not.toHaveProperty('usage');
    out.push(chunk.choices[0]?.delta.content ?? '');
  }
  return out;
}

describe("an app's own fetch that hands out shared buffers", () => {
  it('gets the usage cut out as always, on every call, and its buffers are never written to', async () => {
    const meter = createTestMeter();
    const replay = replayingFetch();
    const client = instrument(new OpenAI({ apiKey: 'k', baseURL: 'http://127.0.0.1:9/v1', fetch: replay.fetch, maxRetries: 0 }), { meterProvider: meter.meterProvider });
    for (let call = 0; call < 3; call++) expect(await contents(client)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(replay.shared).toEqual(replay.pristine);
    await meter.shutdown();
  });
});
