import { describe, expect, it } from 'vitest';
import { DEFAULT_PRICES, DEFAULT_PRICES_DATE } from '../src/index.js';
import { CHAT, useHarness } from './support/harness.ts';

const h = useHarness();

describe('cost', () => {
  it('is tokens x price per million, exactly, for a given price table', async () => {
    h.server.enqueue({ kind: 'json', model: 'llama3.3-70b-instruct', usage: { input: 1000, output: 500 } });
    await h.client({ prices: { 'llama3.3-70b-instruct': { input: 0.65, output: 2 } } }).chat.completions.create(CHAT);
    const s = await h.finished();
    expect(s.sum('inferometer.cost')).toBeCloseTo((1000 * 0.65 + 500 * 2) / 1e6, 12);
    expect(s.points('inferometer.cost', { 'inferometer.outcome': 'success' })).toHaveLength(1);
  });

  it('prices cached input apart where the usage reports it', async () => {
    h.server.enqueue({ kind: 'json', model: 'm', usage: { input: 1000, output: 100, cachedInput: 400 } });
    await h.client({ prices: { m: { input: 1, output: 4, cachedInput: 0.25 } } }).chat.completions.create(CHAT);
    const s = await h.finished();
    expect(s.sum('inferometer.cost')).toBeCloseTo((600 * 1 + 400 * 0.25 + 100 * 4) / 1e6, 12);
  });

  it('resolves a dated snapshot to its family in the built-in table', async () => {
    h.server.enqueue({ kind: 'json', model: 'gpt-4o-mini-2024-07-18', usage: { input: 2000, output: 1000 } });
    await h.client().chat.completions.create(CHAT);
    const s = await h.finished();
    const p = DEFAULT_PRICES['gpt-4o-mini']!;
    expect(s.sum('inferometer.cost')).toBeCloseTo((2000 * p.input + 1000 * p.output) / 1e6, 12);
    expect(DEFAULT_PRICES_DATE).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('prices Anthropic and Gemini models from the built-in tables, long-context tier included', async () => {
    h.server.enqueue({ kind: 'json', model: 'claude-sonnet-4-5-20250929', usage: { input: 1000, output: 100 } });
    h.server.enqueue({ kind: 'json', model: 'models/gemini-2.5-pro', usage: { input: 250_000, output: 1000, cachedInput: 50_000 } });
    const client = h.client();
    await client.chat.completions.create(CHAT);
    await client.chat.completions.create(CHAT);
    const s = await h.finished();
    expect(s.sum('inferometer.cost')).toBeCloseTo((1000 * 3 + 100 * 15) / 1e6 + (200_000 * 2.5 + 50_000 * 0.25 + 1000 * 15) / 1e6, 12);
  });

  it('lets the app override a built-in price', async () => {
    h.server.enqueue({ kind: 'json', model: 'gpt-4o', usage: { input: 1_000_000, output: 0 } });
    await h.client({ prices: { 'gpt-4o': { input: 3, output: 9 } } }).chat.completions.create(CHAT);
    const s = await h.finished();
    expect(s.sum('inferometer.cost')).toBeCloseTo(3, 9);
  });

  it('records no cost for an unknown model, but still records its tokens', async () => {
    h.server.enqueue({ kind: 'json', model: 'mystery-model', usage: { input: 10, output: 5 } });
    await h.client().chat.completions.create(CHAT);
    const s = await h.finished();
    expect(s.metric('inferometer.cost')?.dataPoints ?? []).toHaveLength(0);
    expect(s.histogram('gen_ai.client.token.usage', { 'gen_ai.token.type': 'output' }).sum).toBe(5);
  });

  it('counts tokens billed for a cancelled stream as cost, marked estimated when no usage arrived', async () => {
    h.server.enqueue({ kind: 'chat-stream', model: 'm', chunks: ['a', 'b', 'c', 'd'], gapMs: 20 });
    let n = 0;
    for await (const _ of await h.client({ prices: { m: { input: 1, output: 100_000 } } }).chat.completions.create({ ...CHAT, stream: true })) {
      if (++n === 3) break; // role chunk, a, b
    }
    const s = await h.finished();
    const points = s.points('inferometer.cost', { 'inferometer.outcome': 'cancelled', 'inferometer.estimated': true });
    expect(points).toHaveLength(1);
    expect(points[0]!.value).toBeGreaterThanOrEqual(0.2);
  });
});
