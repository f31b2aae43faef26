import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bedrockConverse, bedrockInvoke } from '../../src/protocols/bedrock.js';
import { invocationUsage } from '../../src/protocols/bedrock/invoke.js';
import { recognise } from '../../src/protocols/index.js';
import type { Protocol, ResponseSink } from '../../src/protocols/protocol.js';
import { createFrameDecoder } from '../../src/stream/eventstream-frames.js';
import type { Usage } from '../../src/usage.js';
import { fixtureFrames } from '../support/eventstream-server.ts';

/*
 * Bedrock's two protocols, fed recorded-shape event streams (test/fixtures/bedrock/, encoded by
 * the real AWS codec) through the event stream decoder: no clock, no socket.
 */

interface Reported {
  /** Index of each message reported as output. */
  outputs: number[];
  usage: Usage | undefined;
  models: string[];
  completed: boolean;
  errors: Array<string | undefined>;
  serverTiming: number[];
}

function read(protocol: Protocol, frames: Uint8Array[], pieceSize = Infinity): Reported {
  const r: Reported = { outputs: [], usage: undefined, models: [], completed: false, errors: [], serverTiming: [] };
  let index = -1;
  const sink: ResponseSink = {
    output: () => r.outputs.push(index),
    usage: (u) => (r.usage = u),
    model: (m) => r.models.push(m),
    complete: () => (r.completed = true),
    error: (code) => r.errors.push(code),
    serverTiming: (ms) => r.serverTiming.push(ms),
  };
  const reader = protocol.messages!(sink);
  const decoder = createFrameDecoder((m) => {
    index++;
    reader.read(m);
  });
  const bytes = Buffer.concat(frames);
  for (let at = 0; at < bytes.length; at += Math.min(pieceSize, bytes.length)) decoder.feed(bytes.subarray(at, at + pieceSize));
  reader.end();
  return r;
}

const converse = (name: string, pieceSize?: number) => read(bedrockConverse, fixtureFrames(`converse/${name}`), pieceSize);
const invoke = (name: string, pieceSize?: number) => read(bedrockInvoke, fixtureFrames(`invoke/${name}`), pieceSize);

describe('recognising Bedrock runtime requests', () => {
  const at = (path: string) => new URL(`https://bedrock-runtime.us-east-1.amazonaws.com${path}`);

  it('takes the four runtime routes, with the model id URL-decoded (inference profiles and ARNs)', () => {
    const profile = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
    expect(recognise(at(`/model/${encodeURIComponent(profile)}/converse-stream`), { messages: [] })).toMatchObject({
      protocol: bedrockConverse,
      request: { operation: 'chat', model: profile, stream: true },
    });
    expect(recognise(at(`/model/${encodeURIComponent(profile)}/converse`), { messages: [] })?.request).toMatchObject({ model: profile, stream: false });
    const arn = 'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-haiku-4-5-20251001-v1:0';
    expect(recognise(at(`/model/${encodeURIComponent(arn)}/invoke-with-response-stream`), { messages: [] })).toMatchObject({
      protocol: bedrockInvoke,
      request: { operation: 'chat', model: arn, stream: true },
    });
    expect(recognise(at('/model/meta.llama3-70b-instruct-v1%3A0/invoke'), { prompt: 'Hi' })?.request).toMatchObject({
      operation: 'text_completion',
      model: 'meta.llama3-70b-instruct-v1:0',
      stream: false,
    });
    expect(recognise(at('/model/amazon.titan-embed-text-v2%3A0/invoke'), { inputText: 'Hi' })?.request.operation).toBe('embeddings');
  });

  it('guesses input tokens from the prompt, and asks for no usage (Bedrock always reports it)', () => {
    const request = recognise(at('/model/amazon.nova-pro-v1%3A0/converse'), { messages: [{ role: 'user', content: [{ text: 'x'.repeat(400) }] }] })!.request;
    expect(request.estimatedInputTokens).toBe(101); // 404 characters ("user" too), 4 per token
    expect(request.withUsageRequested()).toBeUndefined();
  });

  it('leaves other Bedrock paths alone (count-tokens, async-invoke, guardrails)', () => {
    for (const path of ['/model/x/count-tokens', '/async-invoke', '/guardrail/g1/version/1/apply', '/model/x/converse/extra']) {
      expect(recognise(at(path), {})).toBeUndefined();
    }
  });
});

describe('the ConverseStream reader', () => {
  it('counts each non-empty text delta as output, not messageStart, block start/stop or messageStop', () => {
    const r = converse('text');
    expect(r.outputs).toEqual([1, 2, 3, 4]);
    expect(r.completed).toBe(true);
    expect(r.errors).toEqual([]);
    // No event names the model: the request's model id stands.
    expect(r.models).toEqual([]);
  });

  it("reads the metadata's usage and Bedrock's own latencyMs", () => {
    const r = converse('text');
    expect(r.usage).toEqual({ input: 22, cacheRead: 0, cacheWrite: 0, output: 55, reasoning: 0, estimated: false });
    expect(r.serverTiming).toEqual([2040]);
  });

  it('adds cache reads and writes to inputTokens, as the conventions count input', () => {
    expect(converse('reasoning-cached').usage).toMatchObject({ input: 51 + 1024 + 300, cacheRead: 1024, cacheWrite: 300, output: 94 });
  });

  it('counts reasoning text as output (the first token may be a thought), not an empty one or the signature', () => {
    expect(converse('reasoning-cached').outputs).toEqual([1, 2, 6, 7]);
  });

  it("counts a tool call's input fragments, not its start or an empty first fragment", () => {
    expect(converse('tool-use').outputs).toEqual([1, 5, 6]);
  });

  it('reports an in-stream exception with its type, and no completion', () => {
    const r = converse('throttled-mid-stream');
    expect(r.errors).toEqual(['throttlingException']);
    expect(r.completed).toBe(false);
    expect(r.outputs).toEqual([1, 2]);
  });

  it('reads the same however the bytes are cut into pieces', () => {
    for (const name of ['text', 'reasoning-cached', 'tool-use', 'throttled-mid-stream']) {
      const whole = converse(name);
      for (const size of [1, 5, 64]) expect({ name, size, ...converse(name, size) }).toEqual({ name, size, ...whole });
    }
  });

  it('reads a non-streamed Converse answer: usage and latencyMs', () => {
    const r: Reported = { outputs: [], usage: undefined, models: [], completed: false, errors: [], serverTiming: [] };
    const sink: ResponseSink = { output() {}, usage: (u) => (r.usage = u), model() {}, complete() {}, error() {}, serverTiming: (ms) => r.serverTiming.push(ms) };
    bedrockConverse.json(
      { output: { message: { role: 'assistant', content: [{ text: 'Hi' }] } }, stopReason: 'end_turn', usage: { inputTokens: 10, outputTokens: 3, cacheReadInputTokens: 5, totalTokens: 18 }, metrics: { latencyMs: 512 } },
      sink,
    );
    expect(r.usage).toMatchObject({ input: 15, cacheRead: 5, output: 3 });
    expect(r.serverTiming).toEqual([512]);
    r.serverTiming = [];
    bedrockConverse.largeJson('{"output":{"message":{"content":[{"text":"…', '…"}]}},"stopReason":"end_turn","usage":{"inputTokens":7,"outputTokens":2},"metrics":{"latencyMs":99}}', sink);
    expect(r.usage).toMatchObject({ input: 7, output: 2 });
    expect(r.serverTiming).toEqual([99]);
  });
});

describe('the InvokeModelWithResponseStream reader', () => {
  it("reads Claude's chunks as Anthropic Messages events: output, the model, the end", () => {
    const r = invoke('claude-text');
    expect(r.outputs).toEqual([2, 3, 4]);
    expect(r.models).toEqual(['claude-sonnet-4-5-20250929']);
    expect(r.completed).toBe(true);
  });

  it("takes Bedrock's invocation metrics (billed counts, cache added) and its invocationLatency", () => {
    const r = invoke('claude-text');
    expect(r.usage).toEqual({ input: 14 + 2048, cacheRead: 2048, cacheWrite: 0, output: 12, reasoning: 0, estimated: false });
    expect(r.serverTiming).toEqual([893]);
  });

  it("reads Nova's chunks as Converse events, and other families' generated text", () => {
    const nova = invoke('nova-text');
    expect(nova.outputs).toEqual([1, 2]);
    expect(nova.usage).toMatchObject({ input: 9, output: 2 });
    expect(nova.completed).toBe(true);
    const llama = invoke('llama-text');
    expect(llama.outputs).toEqual([0, 1, 2]);
    expect(llama.usage).toMatchObject({ input: 18, output: 3 });
    expect(llama.serverTiming).toEqual([301]);
    expect(llama.completed).toBe(true);
  });

  it('reports an in-stream exception with its type; a stream without the metrics is not complete', () => {
    const r = invoke('claude-model-stream-error');
    expect(r.errors).toEqual(['modelStreamErrorException']);
    expect(r.completed).toBe(false);
    expect(r.outputs).toEqual([2]);
    expect(r.usage).toMatchObject({ input: 30, output: 1 });
  });

  it('reads an exception frame recorded from Bedrock, byte for byte', () => {
    const frame = Buffer.from(readFileSync(new URL('../fixtures/bedrock/recorded-model-stream-error.eventstream.base64', import.meta.url), 'utf8').trim(), 'base64');
    expect(read(bedrockInvoke, [frame]).errors).toEqual(['modelStreamErrorException']);
    expect(read(bedrockConverse, [frame], 3).errors).toEqual(['modelStreamErrorException']);
  });

  it('reads the same however the bytes are cut into pieces', () => {
    for (const name of ['claude-text', 'nova-text', 'llama-text', 'claude-model-stream-error']) {
      const whole = invoke(name);
      for (const size of [1, 7, 100]) expect({ name, size, ...invoke(name, size) }).toEqual({ name, size, ...whole });
    }
  });

  it("reads a non-streamed answer: Claude's usage and model, Nova's usage", () => {
    const r: Reported = { outputs: [], usage: undefined, models: [], completed: false, errors: [], serverTiming: [] };
    const sink: ResponseSink = { output() {}, usage: (u) => (r.usage = u), model: (m) => r.models.push(m), complete() {}, error() {}, serverTiming() {} };
    bedrockInvoke.json({ type: 'message', model: 'claude-haiku-4-5-20251001', usage: { input_tokens: 20, cache_read_input_tokens: 100, output_tokens: 4 } }, sink);
    expect(r.usage).toMatchObject({ input: 120, cacheRead: 100, output: 4 });
    expect(r.models).toEqual(['claude-haiku-4-5-20251001']);
    bedrockInvoke.json({ output: { message: { content: [{ text: 'Hi' }] } }, usage: { inputTokens: 8, outputTokens: 2 } }, sink);
    expect(r.usage).toMatchObject({ input: 8, output: 2 });
  });
});

describe('invocationUsage', () => {
  it("adds the metrics' cache counts to inputTokenCount; without them, the model's own", () => {
    expect(invocationUsage({ inputTokenCount: 10, outputTokenCount: 2, cacheReadInputTokenCount: 50, cacheWriteInputTokenCount: 5 }, undefined)).toMatchObject({ input: 65, cacheRead: 50, cacheWrite: 5, output: 2 });
    const model: Usage = { input: 80, cacheRead: 70, cacheWrite: 0, output: 1, reasoning: 0, estimated: false };
    expect(invocationUsage({ inputTokenCount: 10, outputTokenCount: 3 }, model)).toMatchObject({ input: 80, cacheRead: 70, output: 3 });
    expect(invocationUsage({ invocationLatency: 5 }, model)).toBeUndefined();
  });
});
