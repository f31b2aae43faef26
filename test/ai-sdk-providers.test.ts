import { createAzure } from '@ai-sdk/azure';
import { createGroq } from '@ai-sdk/groq';
import { createMistral } from '@ai-sdk/mistral';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { createXai } from '@ai-sdk/xai';
import type { LanguageModel } from 'ai';
import { streamText } from 'ai';
import { describe, expect, it } from 'vitest';
import { meteredFetch } from '../src/index.js';
import { outcomes } from './robustness/support.ts';
import { useHarness } from './support/harness.ts';

/*
 * Every Vercel AI SDK provider that takes a `fetch` is metered through the protocol it speaks:
 * OpenAI (chat completions and Responses), Azure OpenAI, Mistral, Groq, xAI and any
 * OpenAI-compatible server (Anthropic, Google and Bedrock have specs of their own).
 */

const h = useHarness();
const fetch = () => meteredFetch({ meterProvider: h.meterProvider });

const PROVIDERS: Array<[string, () => LanguageModel]> = [
  ['@ai-sdk/openai (Responses)', () => createOpenAI({ baseURL: h.server.baseURL, apiKey: 'k', fetch: fetch() })('gpt-4o-mini')],
  ['@ai-sdk/openai (chat completions)', () => createOpenAI({ baseURL: h.server.baseURL, apiKey: 'k', fetch: fetch() }).chat('gpt-4o-mini')],
  ['@ai-sdk/azure', () => createAzure({ baseURL: `${h.server.origin}/openai`, apiKey: 'k', fetch: fetch() })('gpt-4o-mini')],
  ['@ai-sdk/mistral', () => createMistral({ baseURL: h.server.baseURL, apiKey: 'k', fetch: fetch() })('mistral-small-latest')],
  ['@ai-sdk/groq', () => createGroq({ baseURL: h.server.baseURL, apiKey: 'k', fetch: fetch() })('llama-3.3-70b-versatile')],
  ['@ai-sdk/xai', () => createXai({ baseURL: h.server.baseURL, apiKey: 'k', fetch: fetch() })('grok-4')],
  ['@ai-sdk/openai-compatible', () => createOpenAICompatible({ name: 'vllm', baseURL: h.server.baseURL, apiKey: 'k', fetch: fetch() })('llama-3.1-8b')],
];

describe.each(PROVIDERS)('%s under meteredFetch()', (_name, model) => {
  it('meters streamText: one successful request with a time to first token, and the app gets its text', async () => {
    const result = streamText({ model: model(), prompt: 'hi', maxRetries: 0 });
    const text = await result.text;
    expect(text.length).toBeGreaterThan(0);
    const s = await h.finished();
    expect(outcomes(s)).toEqual({ success: 1 });
    expect(s.histogram('inferometer.time_to_first_token').count).toBe(1);
    expect(s.points('inferometer.requests', { 'gen_ai.operation.name': 'chat' })).toHaveLength(1);
    expect(h.server.requests).toHaveLength(1);
  });
});
