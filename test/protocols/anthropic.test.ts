import { describe, expect, it } from 'vitest';
import { anthropicMessages, anthropicUsage } from '../../src/protocols/anthropic.js';
import { readFixture } from './read-fixture.ts';

/* The Anthropic Messages reader, fed recorded-shape streams (test/fixtures/anthropic/): no clock, no socket. */

const read = (name: string, pieceSize?: number) => readFixture(anthropicMessages, `anthropic/${name}.sse`, pieceSize);

describe('the Anthropic Messages stream reader', () => {
  it('counts each non-empty text delta as output, not message_start, ping or block start/stop', () => {
    const r = read('text');
    expect(r.outputs).toEqual([3, 4, 5, 6]);
    expect(r.models).toEqual(['claude-sonnet-4-5-20250929']);
    expect(r.completed).toBe(true);
    expect(r.errors).toEqual([]);
  });

  it('adds cache reads and writes to input_tokens, as the conventions count input', () => {
    expect(read('text').usage).toEqual({ input: 12 + 2048, cacheRead: 2048, cacheWrite: 0, output: 12, reasoning: 0, estimated: false });
  });

  it('counts thinking deltas as output (the first token may be a thought), not the signature; keeps thinking tokens apart, inside output', () => {
    const r = read('thinking-then-text');
    expect(r.outputs).toEqual([3, 4, 5, 9, 10, 11]);
    expect(r.usage).toMatchObject({ output: 96, reasoning: 41 });
  });

  it("does not count a tool call's empty first input delta; counts its argument fragments", () => {
    expect(read('tool-use').outputs).toEqual([3, 4, 8, 9, 10]);
  });

  it("takes the last message_delta's counts, which replace message_start's (server tools), never their sum", () => {
    expect(read('web-search-message-deltas').usage).toEqual({ input: 15665, cacheRead: 0, cacheWrite: 0, output: 795, reasoning: 0, estimated: false });
    expect(read('ping-first').usage).toMatchObject({ input: 61, output: 5 });
  });

  it('bills the compaction round that the top-level usage leaves out', () => {
    expect(read('compaction-iterations').usage).toMatchObject({ input: 60385 + 612, output: 522 + 2819 });
  });

  it('reports an in-stream `event: error` with its type, and no completion', () => {
    const r = read('overloaded-error');
    expect(r.errors).toEqual(['overloaded_error']);
    expect(r.completed).toBe(false);
    expect(r.outputs).toEqual([3, 4]);
  });

  it('reads the same however the text is cut into pieces', () => {
    for (const name of ['text', 'thinking-then-text', 'tool-use', 'web-search-message-deltas', 'overloaded-error', 'ping-first', 'compaction-iterations']) {
      const whole = read(name);
      for (const size of [1, 7, 64]) {
        const pieced = read(name, size);
        expect({ name, size, ...pieced, forwarded: undefined }).toEqual({ name, size, ...whole, forwarded: undefined });
      }
    }
  });
});

describe('anthropicUsage', () => {
  it('adds cache reads and writes to input; undefined for no counts', () => {
    expect(anthropicUsage({ input_tokens: 100, cache_read_input_tokens: 20, cache_creation_input_tokens: 30, output_tokens: 5 })).toEqual({
      input: 150, cacheRead: 20, cacheWrite: 30, output: 5, reasoning: 0, estimated: false,
    });
    expect(anthropicUsage({ service_tier: 'standard' })).toBeUndefined();
    expect(anthropicUsage(null)).toBeUndefined();
  });

  it('sums the rounds of a response served by two models (fallback), where the top level says less', () => {
    const usage = anthropicUsage({
      output_tokens: 70,
      iterations: [
        { type: 'message', model: 'claude-opus-5-5', input_tokens: 10, output_tokens: 40 },
        { type: 'fallback_message', model: 'claude-opus-4-8', input_tokens: 12, output_tokens: 30 },
      ],
    });
    expect(usage).toMatchObject({ input: 22, output: 70 });
  });
});
