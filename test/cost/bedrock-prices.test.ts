import { describe, expect, it } from 'vitest';
import { ANTHROPIC_PRICES } from '../../src/cost/anthropic-prices.js';
import { BEDROCK_PRICES } from '../../src/cost/bedrock-prices.js';
import { DEFAULT_PRICES } from '../../src/cost/default-prices.js';
import { PriceBook, familyOf } from '../../src/cost/price-book.js';

/* Bedrock model ids and their prices: family matching (ARN, region prefix, version, date) and the table's rules. */

describe('familyOf a Bedrock model id', () => {
  it.each([
    ['anthropic.claude-sonnet-4-5-20250929-v1:0', 'anthropic.claude-sonnet-4-5'],
    ['us.anthropic.claude-sonnet-4-5-20250929-v1:0', 'anthropic.claude-sonnet-4-5'],
    ['eu.anthropic.claude-haiku-4-5-20251001-v1:0', 'anthropic.claude-haiku-4-5'],
    ['apac.anthropic.claude-3-7-sonnet-20250219-v1:0', 'anthropic.claude-3-7-sonnet'],
    ['global.anthropic.claude-sonnet-4-5-20250929-v1:0', 'global.anthropic.claude-sonnet-4-5'],
    ['anthropic.claude-opus-4-6-v1', 'anthropic.claude-opus-4-6'],
    ['anthropic.claude-3-haiku-20240307-v1:0:200k', 'anthropic.claude-3-haiku'],
    ['arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-20250514-v1:0', 'anthropic.claude-sonnet-4'],
    ['arn:aws:bedrock:us-west-2::foundation-model/amazon.nova-pro-v1:0', 'amazon.nova-pro'],
    ['us.amazon.nova-lite-v1:0', 'amazon.nova-lite'],
    ['us.meta.llama3-3-70b-instruct-v1:0', 'meta.llama3-3-70b-instruct'],
    ['meta.llama4-maverick-17b-instruct-v1:0', 'meta.llama4-maverick-17b-instruct'],
    ['mistral.mistral-large-2407-v1:0', 'mistral.mistral-large-2407'],
    ['mistral.mistral-7b-instruct-v0:2', 'mistral.mistral-7b-instruct'],
    ['openai.gpt-oss-120b-1:0', 'openai.gpt-oss-120b'],
  ])('%s -> %s', (id, family) => {
    expect(familyOf(id)).toBe(family);
  });

  it('leaves other names to their own rules', () => {
    expect(familyOf('claude-sonnet-4-5-20250929')).toBe('claude-sonnet-4-5');
    expect(familyOf('gpt-4o-2024-08-06')).toBe('gpt-4o');
    // An application inference profile names no model: it has no price of its own.
    const app = 'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4';
    expect(new PriceBook(DEFAULT_PRICES).priceOf(app)).toBeNull();
  });
});

describe('the Bedrock prices', () => {
  const book = new PriceBook(DEFAULT_PRICES);

  it("price Claude on the global endpoint at Anthropic's prices, and 10% above on the others from Sonnet 4.5 on", () => {
    expect(book.priceOf('global.anthropic.claude-sonnet-4-5-20250929-v1:0')).toBe(ANTHROPIC_PRICES['claude-sonnet-4-5']);
    const regional = book.priceOf('us.anthropic.claude-sonnet-4-5-20250929-v1:0')!;
    expect(regional).toMatchObject({ input: 3.3, output: 16.5, cachedInput: 0.33, cacheWrite: 4.125 });
    expect(regional.longContext).toMatchObject({ above: 200_000, input: 6.6, output: 24.75 });
    expect(book.priceOf('us.anthropic.claude-3-7-sonnet-20250219-v1:0')).toBe(ANTHROPIC_PRICES['claude-3-7-sonnet']);
    expect(book.priceOf('anthropic.claude-3-haiku-20240307-v1:0')).toBe(ANTHROPIC_PRICES['claude-3-haiku']);
  });

  it('price Nova, Llama and Mistral by their family, cross-region profiles too', () => {
    expect(book.priceOf('us.amazon.nova-pro-v1:0')).toEqual({ input: 0.8, output: 3.2, cachedInput: 0.2 });
    expect(book.priceOf('us.meta.llama3-3-70b-instruct-v1:0')).toEqual({ input: 0.72, output: 0.72 });
    expect(book.priceOf('mistral.mistral-large-2402-v1:0')).not.toEqual(book.priceOf('mistral.mistral-large-2407-v1:0'));
  });

  it('list no Anthropic alias as a Bedrock model, and every Claude model of the Anthropic table on both endpoints', () => {
    expect(BEDROCK_PRICES['anthropic.claude-opus-4-0']).toBeUndefined();
    for (const name of Object.keys(ANTHROPIC_PRICES).filter((n) => !n.endsWith('-4-0'))) {
      expect(BEDROCK_PRICES[`anthropic.${name}`], name).toBeDefined();
      expect(BEDROCK_PRICES[`global.anthropic.${name}`], name).toBeDefined();
    }
  });
});
