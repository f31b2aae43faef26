import { describe, expect, it } from 'vitest';
import { gemini, geminiUsage } from '../../src/protocols/gemini.js';
import type { Usage } from '../../src/usage.js';
import { fixtureText, sseEvents } from '../support/fixtures.ts';
import { readFixture } from './read-fixture.ts';

/* The Gemini stream reader, fed recorded-shape streams (test/fixtures/gemini/): no clock, no socket. */

const read = (name: string, pieceSize?: number) => readFixture(gemini, `gemini/${name}.sse`, pieceSize);

describe('the Gemini stream reader', () => {
  it('counts each chunk with text as output, reads the cumulative usage (the last wins), and completes on finishReason', () => {
    const r = read('text');
    expect(r.outputs).toEqual([0, 1, 2]);
    expect(r.usage).toEqual({ input: 8, cacheRead: 0, cacheWrite: 0, output: 15, reasoning: 0, estimated: false });
    expect(r.models[0]).toBe('gemini-2.5-flash');
    expect(r.completed).toBe(true);
  });

  it('reads LF framing as it reads the API\'s CRLF framing', () => {
    expect({ ...read('lf-framed'), forwarded: [] }).toEqual({ ...read('text'), forwarded: [] });
  });

  it('bills thoughts as output beside the candidates, kept apart as reasoning; a final empty-text chunk is not output', () => {
    const r = read('thoughts');
    expect(r.outputs).toEqual([0, 1, 2]);
    expect(r.usage).toMatchObject({ input: 9, output: 13 + 302, reasoning: 302 });
  });

  it('counts a function call as output', () => {
    expect(read('function-call').outputs).toEqual([0]);
  });

  it('counts tool-use prompts as input, and cached tokens as part of the prompt, not on top of it', () => {
    expect(read('usage-only-on-last').usage).toEqual({ input: 12 + 65, cacheRead: 4, cacheWrite: 0, output: 71 + 89, reasoning: 89, estimated: false });
  });

  it('completes a blocked prompt without output', () => {
    const r = read('prompt-blocked');
    expect(r.outputs).toEqual([]);
    expect(r.completed).toBe(true);
  });

  it('reports an error chunk inside a 200 stream with its status, and no completion', () => {
    const r = read('mid-stream-error');
    expect(r.errors).toEqual(['UNAVAILABLE']);
    expect(r.completed).toBe(false);
  });

  it('reads the same however the text is cut into pieces', () => {
    for (const name of ['text', 'lf-framed', 'thoughts', 'function-call', 'usage-only-on-last', 'prompt-blocked', 'mid-stream-error']) {
      const whole = read(name);
      for (const size of [1, 2, 7, 64]) expect({ name, size, ...read(name, size), forwarded: undefined }).toEqual({ name, size, ...whole, forwarded: undefined });
    }
  });
});

describe('the Gemini stream reader, cut short', () => {
  it('still reports the usage of the last chunk read, which the hot path took without parsing', () => {
    const blocks = sseEvents(fixtureText('gemini/text.sse')).slice(0, 2);
    let usage: Usage | undefined;
    const outputs: number[] = [];
    const reader = gemini.events({ output: () => outputs.push(1), usage: (u) => (usage = u), model() {}, complete() {}, error() {}, serverTiming() {} }, false);
    for (const block of blocks) reader.read(block, false);
    reader.end();
    expect(outputs).toHaveLength(2);
    expect(usage).toMatchObject({ input: 8, output: 11 });
  });
});

describe('gemini request routes', () => {
  const recognise = (url: string) => gemini.recognise(new URL(url), { contents: [{ parts: [{ text: 'hello there' }] }] });

  it('takes the model from the URL and the stream flag from the method and alt=sse, on the Gemini API and Vertex AI', () => {
    expect(recognise('https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse&key=SECRET')).toMatchObject({
      operation: 'generate_content', model: 'gemini-2.5-flash', stream: true,
    });
    expect(recognise('https://generativelanguage.googleapis.com/v1/models/gemini-2.5-pro:generateContent')).toMatchObject({ model: 'gemini-2.5-pro', stream: false });
    expect(recognise('https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse')).toMatchObject({ model: 'gemini-2.5-flash', stream: true });
    // Without alt=sse the stream is a JSON array, read whole.
    expect(recognise('https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent')).toMatchObject({ stream: false });
    expect(recognise('https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:countTokens')).toBeUndefined();
  });

  it('estimates input from the contents', () => {
    expect(recognise('https://x/v1/models/m:generateContent')?.estimatedInputTokens).toBe(3);
  });
});

describe('geminiUsage', () => {
  it('is undefined without counts', () => {
    expect(geminiUsage({ totalTokenCount: 0 })).toBeUndefined();
    expect(geminiUsage(undefined)).toBeUndefined();
  });
});
