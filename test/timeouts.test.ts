import { createOpenAI } from '@ai-sdk/openai';
import { generateText, streamText } from 'ai';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { meteredFetch } from '../src/index.js';
import { outcomes, thrown } from './robustness/support.ts';
import { CHAT, useHarness } from './support/harness.ts';

/*
 * A timeout is an error of type `timeout`, on the request and on each of its attempts, whichever
 * client set it and however it aborts; only the app's own abort is a cancellation.
 */

const h = useHarness();

describe('the openai SDK under instrument()', () => {
  it("records the client's own timeout (which sends no x-stainless-timeout) as timeout, on the request and on every attempt", async () => {
    h.server.setFallback({ kind: 'hang' });
    const error = await thrown(() => h.client({}, { timeout: 150, maxRetries: 1 }).chat.completions.create(CHAT));
    expect(error).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect(h.server.requests[0]!.headers['x-stainless-timeout']).toBeUndefined();
    const s = await h.finished();
    expect(outcomes(s)).toEqual({ 'error:timeout': 1 });
    expect(s.sum('inferometer.attempts', { 'error.type': 'timeout' })).toBe(2);
    expect(s.sum('inferometer.attempts', { 'error.type': 'cancelled' })).toBe(0);
  });

  it('records a per-call timeout as timeout on the request and its attempt', async () => {
    h.server.setFallback({ kind: 'hang' });
    const error = await thrown(() => h.client().chat.completions.create(CHAT, { timeout: 1100 }));
    expect(error).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    const s = await h.finished();
    expect(outcomes(s)).toEqual({ 'error:timeout': 1 });
    expect(s.sum('inferometer.attempts', { 'error.type': 'timeout' })).toBe(1);
  });

  it("keeps the app's own abort a cancellation, also on its attempt", async () => {
    h.server.setFallback({ kind: 'hang' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 80);
    const error = await thrown(() => h.client({}, { timeout: 60_000 }).chat.completions.create(CHAT, { signal: controller.signal }));
    expect(error).toBeInstanceOf(OpenAI.APIUserAbortError);
    const s = await h.finished();
    expect(outcomes(s)).toEqual({ cancelled: 1 });
    expect(s.sum('inferometer.attempts', { 'error.type': 'cancelled' })).toBe(1);
  });
});

describe('AbortSignal.timeout() (the Vercel AI SDK, LangChain) under meteredFetch()', () => {
  const provider = () =>
    createOpenAI({ baseURL: h.server.baseURL, apiKey: 'k', fetch: meteredFetch({ meterProvider: h.meterProvider }) });

  it('records a timeout before the headers as timeout, not cancelled', async () => {
    h.server.setFallback({ kind: 'hang' });
    const error = await thrown(() =>
      generateText({ model: provider().chat('gpt-4o-mini'), prompt: 'hi', maxRetries: 0, abortSignal: AbortSignal.timeout(150) }),
    );
    expect(error).toBeDefined();
    const s = await h.finished();
    expect(outcomes(s)).toEqual({ 'error:timeout': 1 });
    expect(s.sum('inferometer.attempts', { 'error.type': 'timeout' })).toBe(1);
  });

  it('records a timeout in the middle of a stream as timeout', async () => {
    h.server.setFallback({ kind: 'chat-stream', chunks: ['a', 'b', 'c'], stallAfter: 1 });
    const result = streamText({ model: provider().chat('gpt-4o-mini'), prompt: 'hi', maxRetries: 0, abortSignal: AbortSignal.timeout(300), onError: () => {} });
    await thrown(async () => {
      for await (const _ of result.textStream);
    });
    const s = await h.finished();
    expect(outcomes(s)).toEqual({ 'error:timeout': 1 });
    expect(s.histogram('inferometer.time_to_first_token').count).toBe(1);
  });

  it("keeps the app's own abort of a stream a cancellation", async () => {
    h.server.setFallback({ kind: 'chat-stream', chunks: ['a', 'b', 'c'], stallAfter: 1 });
    const controller = new AbortController();
    const result = streamText({ model: provider().chat('gpt-4o-mini'), prompt: 'hi', maxRetries: 0, abortSignal: controller.signal, onError: () => {} });
    setTimeout(() => controller.abort(), 300);
    await thrown(async () => {
      for await (const _ of result.textStream);
    });
    const s = await h.finished();
    expect(outcomes(s)).toEqual({ cancelled: 1 });
  });
});
