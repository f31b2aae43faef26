import Anthropic from '@anthropic-ai/sdk';
import OpenAI, { AzureOpenAI } from 'openai';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InferometerConfigError, instrument } from '../src/index.js';

/* instrument() takes the clients it can meter, and refuses every other one out loud. */

describe('instrument()', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('takes an OpenAI and an AzureOpenAI client and returns one of the same class', () => {
    // openai 5's AzureOpenAI.withOptions() rebuilds the client without its apiVersion, from the
    // environment only (the SDK's own behaviour; openai 6 and 7 keep it).
    vi.stubEnv('OPENAI_API_VERSION', '2024-10-21');
    const openai = new OpenAI({ apiKey: 'k', baseURL: 'http://127.0.0.1:9/v1' });
    const azure = new AzureOpenAI({ apiKey: 'k', endpoint: 'http://127.0.0.1:9', apiVersion: '2024-10-21' });
    expect(instrument(openai)).toBeInstanceOf(OpenAI);
    expect(instrument(azure)).toBeInstanceOf(AzureOpenAI);
  });

  it('takes an Anthropic client and returns one of the same class', () => {
    const anthropic = new Anthropic({ apiKey: 'k', baseURL: 'http://127.0.0.1:9' });
    const copy = instrument(anthropic);
    expect(copy).toBeInstanceOf(Anthropic);
    expect(copy).not.toBe(anthropic);
  });

  it('refuses another client with withOptions() and fetch, saying what it takes and what to use instead', () => {
    class Cohere {
      fetch = globalThis.fetch;
      withOptions() {
        return this;
      }
    }
    expect(() => instrument(new Cohere())).toThrow(InferometerConfigError);
    expect(() => instrument(new Cohere())).toThrow(
      'Expected `client` to be an openai client (openai ^5 || ^6 || ^7: OpenAI, AzureOpenAI), an Anthropic client (@anthropic-ai/sdk) or an AWS Bedrock Runtime client (@aws-sdk/client-bedrock-runtime), got an instance of `Cohere`, which instrument() does not know; if it takes a `fetch` option, give it meteredFetch()',
    );
  });
});
