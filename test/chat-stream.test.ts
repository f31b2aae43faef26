import { describe, expect, it } from 'vitest';
import { CHAT, useHarness } from './support/harness.ts';

const h = useHarness();
const ms = (s: number) => s * 1000;

describe('a streamed chat completion', () => {
  it('records time to first token from the first output event, not the role-only chunk', async () => {
    h.server.enqueue({ kind: 'chat-stream', headersMs: 5, ttftMs: 120, gapMs: 20, chunks: ['a', 'b', 'c', 'd'] });
    const stream = await h.client().chat.completions.create({ ...CHAT, stream: true });
    for await (const _ of stream);
    const s = await h.finished();
    const ttft = s.histogram('inferometer.time_to_first_token');
    const ttfc = s.histogram('gen_ai.client.operation.time_to_first_chunk');
    expect(ttft.count).toBe(1);
    expect(ms(ttft.sum)).toBeGreaterThanOrEqual(118);
    expect(ms(ttft.sum)).toBeLessThan(150);
    // The role-only chunk goes out with the headers, long before the first token.
    expect(ms(ttfc.sum)).toBeLessThan(40);
  });

  it('records one chunk gap per output chunk after the first, within a few ms of the server\'s own write times', async () => {
    h.server.enqueue({ kind: 'chat-stream', ttftMs: 30, gapMs: [40, 10, 70], chunks: ['a', 'b', 'c', 'd'], includeUsage: 'never' });
    const stream = await h.client().chat.completions.create({ ...CHAT, stream: true });
    for await (const _ of stream);
    const s = await h.finished();
    const gaps = s.histogram('gen_ai.client.operation.time_per_output_chunk');
    // Events: role, a, b, c, d, finish, [DONE]. Output events are a..d (the finish chunk carries
    // none): 3 gaps.
    const written = h.server.timeline(0).events.slice(1, 5);
    const truth = written.slice(1).map((t, i) => t - written[i]!);
    expect(gaps.count).toBe(3);
    // a few ms: both clocks are read on a shared 2-core machine
    expect(Math.abs(ms(gaps.max) - Math.max(...truth))).toBeLessThan(8);
    expect(Math.abs(ms(gaps.sum) - (written[3]! - written[0]!))).toBeLessThan(8);
    expect(Math.max(...truth)).toBeGreaterThanOrEqual(55); // the long gap stayed the longest
  });

  it('measures at the network boundary: an app that starts iterating 200 ms late still sees the true TTFT and gaps', async () => {
    h.server.enqueue({ kind: 'chat-stream', ttftMs: 50, gapMs: 10, chunks: ['a', 'b', 'c', 'd', 'e'] });
    const stream = await h.client().chat.completions.create({ ...CHAT, stream: true });
    await new Promise((r) => setTimeout(r, 250));
    for await (const _ of stream);
    const s = await h.finished();
    expect(ms(s.histogram('inferometer.time_to_first_token').sum)).toBeLessThan(70);
    expect(ms(s.histogram('gen_ai.client.operation.time_per_output_chunk').max)).toBeLessThan(25);
    expect(ms(s.histogram('gen_ai.client.operation.duration').sum)).toBeLessThan(150);
  });

  it('measures at the network boundary: a slow consumer does not stretch the gaps', async () => {
    h.server.enqueue({ kind: 'chat-stream', ttftMs: 10, gapMs: 5, chunks: Array.from({ length: 10 }, () => 'x') });
    const stream = await h.client().chat.completions.create({ ...CHAT, stream: true });
    for await (const _ of stream) await new Promise((r) => setTimeout(r, 20));
    const s = await h.finished();
    const gaps = s.histogram('gen_ai.client.operation.time_per_output_chunk');
    expect(ms(gaps.sum / gaps.count)).toBeLessThan(10);
  });

  it('asks for usage, records billed tokens, and hides the extra usage chunk from the app', async () => {
    h.server.enqueue({ kind: 'chat-stream', chunks: ['a', 'b', 'c'], usage: { input: 21, output: 3 } });
    h.server.enqueue({ kind: 'chat-stream', chunks: ['a', 'b', 'c'], usage: { input: 21, output: 3 } });
    const bare = [];
    for await (const chunk of await h.bare().chat.completions.create({ ...CHAT, stream: true })) bare.push(chunk);
    const metered = [];
    for await (const chunk of await h.client().chat.completions.create({ ...CHAT, stream: true })) metered.push(chunk);

    expect(h.server.requests[1]!.body).toMatchObject({ stream_options: { include_usage: true } });
    // Ids and timestamps differ per response; everything else must be identical.
    const same = (c: { id?: string; created?: number }) => ({ ...c, id: 'x', created: 0 });
    expect(metered.map(same)).toEqual(bare.map(same));
    expect(metered.some((c) => 'usage' in c)).toBe(false);
    const s = await h.finished();
    expect(s.sum('inferometer.requests', { 'inferometer.outcome': 'success' })).toBe(1);
    expect(s.histogram('gen_ai.client.token.usage', { 'gen_ai.token.type': 'input' }).sum).toBe(21);
    expect(s.histogram('gen_ai.client.token.usage', { 'gen_ai.token.type': 'output' }).sum).toBe(3);
  });

  it('hides nothing when the app asked for usage itself', async () => {
    h.server.enqueue({ kind: 'chat-stream', chunks: ['a'], usage: { input: 5, output: 1 } });
    const chunks = [];
    const stream = await h.client().chat.completions.create({ ...CHAT, stream: true, stream_options: { include_usage: true } });
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.at(-1)?.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 1 });
    const s = await h.finished();
    expect(s.histogram('gen_ai.client.token.usage', { 'gen_ai.token.type': 'output' }).sum).toBe(1);
  });

  it('leaves usage alone when injection is off, and estimates the tokens, marked as estimated', async () => {
    h.server.enqueue({ kind: 'chat-stream', chunks: ['a', 'b'] });
    const stream = await h.client({ injectStreamUsage: false }).chat.completions.create({ ...CHAT, stream: true });
    for await (const _ of stream);
    expect(h.server.requests[0]!.body).not.toHaveProperty('stream_options');
    const s = await h.finished();
    expect(s.points('gen_ai.client.token.usage', { 'inferometer.estimated': true, 'gen_ai.token.type': 'output' })).toHaveLength(1);
    // input estimated from the prompt's characters, 4 per token: "user" + "Say hello" = 13 -> 4
    expect(s.points('gen_ai.client.token.usage', { 'inferometer.estimated': true, 'gen_ai.token.type': 'input' })).toHaveLength(1);
    expect(s.histogram('gen_ai.client.token.usage', { 'gen_ai.token.type': 'input' }).sum).toBe(4);
    // TPOT and output speed need the provider's count
    expect(s.histogram('inferometer.time_per_output_token').count).toBe(0);
  });

  it('retries without stream_options, once per server, when the provider rejects the option', async () => {
    h.server.setFallback({ kind: 'chat-stream', rejectStreamOptions: true, chunks: ['ok'] });
    const client = h.client();
    const first = [];
    for await (const c of await client.chat.completions.create({ ...CHAT, stream: true })) first.push(c);
    for await (const _ of await client.chat.completions.create({ ...CHAT, stream: true }));
    expect(first.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('ok');
    expect(h.server.requests.map((r) => (r.body as { stream_options?: unknown }).stream_options !== undefined)).toEqual([true, false, false]);
    const s = await h.finished(2);
    expect(s.sum('inferometer.requests', { 'inferometer.outcome': 'success' })).toBe(2);
    expect(s.sum('inferometer.attempts', { 'http.response.status_code': 400 })).toBe(1);
  });

  it('ignores an Azure-style first chunk with empty choices and records the response model', async () => {
    h.server.enqueue({ kind: 'chat-stream', emptyChoicesFirst: true, ttftMs: 60, model: 'gpt-4o-2024-08-06' });
    for await (const _ of await h.client().chat.completions.create({ ...CHAT, stream: true }));
    const s = await h.finished();
    expect(ms(s.histogram('inferometer.time_to_first_token').sum)).toBeGreaterThanOrEqual(58);
    expect(s.points('inferometer.requests', { 'gen_ai.response.model': 'gpt-4o-2024-08-06' })).toHaveLength(1);
  });

  it('counts tool-call arguments and reasoning as output', async () => {
    h.server.enqueue({ kind: 'chat-stream', toolCall: { name: 'lookup' }, ttftMs: 40, chunks: ['{"q":', '"x"}'] });
    h.server.enqueue({ kind: 'chat-stream', reasoning: ['think'], ttftMs: 40, chunks: ['a'] });
    for await (const _ of await h.client().chat.completions.create({ ...CHAT, stream: true }));
    for await (const _ of await h.client().chat.completions.create({ ...CHAT, stream: true }));
    const s = await h.finished(2);
    const ttft = s.histogram('inferometer.time_to_first_token');
    expect(ttft.count).toBe(2);
    expect(ms(ttft.max)).toBeLessThan(60);
    expect(ms(ttft.min)).toBeGreaterThanOrEqual(38);
  });

  it('records time per output token and output speed from the billed count', async () => {
    h.server.enqueue({ kind: 'chat-stream', ttftMs: 10, gapMs: 20, chunks: ['a', 'b', 'c', 'd', 'e'], usage: { input: 3, output: 5 } });
    for await (const _ of await h.client().chat.completions.create({ ...CHAT, stream: true }));
    const s = await h.finished();
    const tpot = s.histogram('inferometer.time_per_output_token');
    const speed = s.histogram('inferometer.output_speed');
    // (last output - first output) / (5 - 1), against the server's write times of the first
    // and the fifth output chunk
    const events = h.server.timeline(0).events;
    const span = events[5]! - events[1]!;
    expect(span).toBeGreaterThanOrEqual(70);
    expect(tpot.count).toBe(1);
    expect(Math.abs(ms(tpot.sum) - span / 4)).toBeLessThan(1.5);
    expect(Math.abs(speed.sum - 5 / (span / 1000))).toBeLessThan(5);
  });
});
