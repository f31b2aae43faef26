import Anthropic from '@anthropic-ai/sdk';
import OpenAI, { AzureOpenAI } from 'openai';
import { describe, expect, it } from 'vitest';
import { InferometerConfigError, instrument } from '../src/index.js';

/* instrument() takes the clients it can meter, and refuses every other one out loud. */

describe('instrument()', () => {
  it('takes an OpenAI and an AzureOpenAI client and returns one of the same class', () => {
    const openai = new OpenAI({ apiKey: 'k', baseURL: 'http://127.0.0.1:9/v1' });
    const azure = new AzureOpenAI({ apiKey: 'k', endpoint: 'http://127.0.0.1:9', apiVersion: '2024-10-21' });
    expect(instrument(openai)).toBeInstanceOf(OpenAI);
    expect(instrument(azure)).toBeInstanceOf(AzureOpenAI);
  });

  it('refuses an Anthropic client, which has withOptions() and fetch too but would record nothing', () => {
    const anthropic = new Anthropic({ apiKey: 'k', baseURL: 'http://127.0.0.1:9' });
    expect(() => instrument(anthropic)).toThrow(InferometerConfigError);
    expect(() => instrument(anthropic)).toThrow(
      'Expected `client` to be an openai client (openai ^5 || ^6 || ^7: OpenAI or AzureOpenAI), got an instance of `Anthropic`, which inferometer cannot meter',
    );
  });
});
