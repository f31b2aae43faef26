/**
 * Load: a thousand concurrent streams are metered exactly and add no error; ten thousand workload
 * names stay within the cap; and under it all no prompt, key or header value reaches the server
 * (our header), a metric or a log.
 */
import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PRICES, meteredFetch } from '../../src/index.js';
import { CHAT, useHarness } from '../support/harness.ts';
import { createTestMeter } from '../support/metrics.ts';
import type { Snapshot } from '../support/metrics.ts';
import { captureDiag, outcomes, pool, until } from './support.ts';

const SECRET = 'prompt-text-that-must-never-leak-5150';
const API_KEY = 'sk-key-that-must-never-leak-2112';

const JSON_REPLY = JSON.stringify({
  id: 'chatcmpl-fixed', object: 'chat.completion', created: 1700000000, model: 'gpt-4o-mini-2024-07-18',
  choices: [{ index: 0, message: { role: 'assistant', content: 'hi', refusal: null }, logprobs: null, finish_reason: 'stop' }],
  usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
});

const h = useHarness();
const logs = captureDiag();

describe('1,000 concurrent streams against the loopback server', () => {
  it('add no error to what the bare SDK sees, and the metric totals are exact: requests, chunks, tokens and cost', async () => {
    const N = 1000;
    const OUTPUT = ['a', 'b', 'c', 'd', 'e'];
    h.server.setFallback({ kind: 'chat-stream', chunks: OUTPUT, gapMs: 2, usage: { input: 21, output: 5, cachedInput: 4 } });
    const run = async (client: OpenAI) =>
      Promise.all(
        Array.from({ length: N }, async () => {
          try {
            let text = '';
            for await (const c of await client.chat.completions.create({ ...CHAT, stream: true })) text += c.choices[0]?.delta.content ?? '';
            return text;
          } catch (error) {
            return `error: ${String(error)}`;
          }
        }),
      );
    const bare = await run(h.bare());
    const metered = await run(h.client());
    expect(new Set(bare)).toEqual(new Set(['abcde']));
    expect(metered).toEqual(bare);
    const s: Snapshot = await h.finished(N);
    expect(outcomes(s)).toEqual({ success: N });
    expect(s.sum('inferometer.requests.active')).toBe(0);
    expect(s.sum('inferometer.attempts')).toBe(N);
    // Per stream: 5 output chunks, then the finish chunk (which carries no output): 4 gaps.
    expect(s.histogram('gen_ai.client.operation.time_per_output_chunk').count).toBe(N * (OUTPUT.length - 1));
    expect(s.histogram('inferometer.time_to_first_token').count).toBe(N);
    expect(s.histogram('gen_ai.client.token.usage', { 'gen_ai.token.type': 'input' }).sum).toBe(N * 21);
    expect(s.histogram('gen_ai.client.token.usage', { 'gen_ai.token.type': 'output' }).sum).toBe(N * 5);
    expect(s.points('gen_ai.client.token.usage', { 'inferometer.estimated': true })).toHaveLength(0);
    const p = DEFAULT_PRICES['gpt-4o-mini']!;
    expect(s.sum('inferometer.cost')).toBeCloseTo((N * (17 * p.input + 4 * (p.cachedInput ?? p.input) + 5 * p.output)) / 1e6, 9);
  }, 60_000);
});

describe('10,000 distinct workload names', () => {
  // The class is decided before a byte is sent, so this runs through meteredFetch over an in-memory
  // fetch: 10,000 loopback round trips through the SDK take 15 s on a shared 2-core machine, and the
  // cap over real HTTP is pinned in test/workload.test.ts.
  it('stay within the cap: the first maxWorkloadClasses are kept, `_OTHER` absorbs the rest, one warning, and the header is never sent', async () => {
    const meter = createTestMeter();
    const sent: Headers[] = [];
    const fetch = meteredFetch({
      meterProvider: meter.meterProvider,
      fetch: async (_input, init) => {
        sent.push(new Headers(init?.headers));
        return new Response(JSON_REPLY, { headers: { 'content-type': 'application/json' } });
      },
    });
    const N = 10_000;
    const warningsBefore = logs.filter((l) => l.includes('workload classes')).length;
    await pool(N, 50, async (i) => {
      const response = await fetch('https://api.openai.com/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}`, 'x-inferometer-workload': `tenant-${i}` },
        body: JSON.stringify({ ...CHAT, messages: [{ role: 'user', content: SECRET }] }),
      });
      await response.text();
    });
    const s = await until(() => meter.collect(), (snap) => snap.sum('inferometer.requests') >= N, 5000);
    expect(s.sum('inferometer.requests')).toBe(N);
    for (const m of s.metrics) {
      const classes = new Set(m.dataPoints.map((p) => p.attributes['workload.class']));
      expect(classes.size, m.descriptor.name).toBeLessThanOrEqual(51);
    }
    const kept = new Set(s.points('inferometer.requests').map((p) => p.attributes['workload.class']));
    expect(kept.has('_OTHER')).toBe(true);
    expect(kept.size).toBe(51);
    expect(s.sum('inferometer.requests', { 'workload.class': '_OTHER' })).toBe(N - 50);
    expect(logs.filter((l) => l.includes('workload classes')).length - warningsBefore).toBe(1);
    expect(sent).toHaveLength(N);
    expect(sent.filter((headers) => headers.has('x-inferometer-workload'))).toHaveLength(0);
    await meter.shutdown();
  });
});

describe('privacy under faults', () => {
  it('the per-call workload header never reaches the server, on the first attempt nor on a retry', async () => {
    h.server.enqueue({ kind: 'json', status: 429, headers: { 'retry-after-ms': '1' } }, { kind: 'json', status: 503, headers: { 'retry-after-ms': '1' } }, { kind: 'json' });
    await h.client({}, { maxRetries: 2 }).chat.completions.create(CHAT, { headers: { 'x-inferometer-workload': 'agent' } });
    expect(h.server.requests).toHaveLength(3);
    for (const r of h.server.requests) expect(r.headers).not.toHaveProperty('x-inferometer-workload');
    const s = await h.finished();
    expect(s.sum('inferometer.requests', { 'workload.class': 'agent', 'inferometer.outcome': 'success' })).toBe(1);
  });

  it('a workload header or function that carries prompt text is recorded as _OTHER, and the text appears in no metric and no log', async () => {
    await h.client().chat.completions.create(CHAT, { headers: { 'x-inferometer-workload': `user said: ${SECRET}` } });
    await h.client({ workload: () => `${SECRET} !` }).chat.completions.create(CHAT);
    await h.client({ workload: () => { throw new Error(SECRET); } }).chat.completions.create(CHAT);
    const s = await h.finished(3);
    expect(s.sum('inferometer.requests', { 'workload.class': '_OTHER' })).toBe(3);
    expect(JSON.stringify(s.metrics.map((m) => m.dataPoints.map((p) => p.attributes)))).not.toContain(SECRET);
  });

  it('after everything above, no diag message carried the prompt, the API key or a header value', () => {
    expect(logs.join('\n')).not.toContain(SECRET);
    expect(logs.join('\n')).not.toContain(API_KEY);
    expect(logs.join('\n')).not.toContain('tenant-');
  });
});
