import { describe, expect, it } from 'vitest';
import { findModel, findUsage } from '../../src/protocols/openai/json-text.js';

describe('json-text look-ups', () => {
  it('finds chat, Responses and embeddings usage, with cached input', () => {
    expect(findUsage('{"usage":{"prompt_tokens":10,"completion_tokens":3,"prompt_tokens_details":{"cached_tokens":4}}}')).toEqual({ input: 10, cacheRead: 4, cacheWrite: 0, output: 3, reasoning: 0, estimated: false });
    expect(findUsage('{"usage": {"input_tokens": 7, "input_tokens_details": {"cached_tokens": 2}, "output_tokens": 9}, "user": null}')).toEqual({ input: 7, cacheRead: 2, cacheWrite: 0, output: 9, reasoning: 0, estimated: false });
    expect(findUsage('{"data":[],"usage":{"prompt_tokens":5,"total_tokens":5}}')).toEqual({ input: 5, cacheRead: 0, cacheWrite: 0, output: undefined, reasoning: 0, estimated: false });
  });

  it('is not fooled by completion text that mentions usage or model', () => {
    const text = JSON.stringify({ model: 'real', choices: [{ message: { content: 'fake "usage":{"prompt_tokens":999} and "model":"fake"' } }], usage: { prompt_tokens: 1, completion_tokens: 2 } });
    expect(findUsage(text)).toMatchObject({ input: 1, output: 2 });
    expect(findModel(text)).toBe('real');
    const noUsage = JSON.stringify({ choices: [{ message: { content: '"usage":{"prompt_tokens":999}' } }] });
    expect(findUsage(noUsage)).toBeUndefined();
  });

  it('returns undefined for null, missing or truncated usage', () => {
    expect(findUsage('{"usage":null}')).toBeUndefined();
    expect(findUsage('{"usage":{"prompt_tokens":1')).toBeUndefined();
    expect(findUsage('{}')).toBeUndefined();
  });
});
