import { describe, expect, it } from 'vitest';
import { ANTHROPIC_PRICES } from '../../src/cost/anthropic-prices.js';
import { DEFAULT_PRICES } from '../../src/cost/default-prices.js';
import { PriceBook, familyOf } from '../../src/cost/price-book.js';
import type { ModelPrice } from '../../src/types.js';
import type { Usage } from '../../src/usage.js';

function usage(u: Partial<Usage>): Usage {
  return { input: undefined, cacheRead: 0, cacheWrite: 0, output: undefined, reasoning: 0, estimated: false, ...u };
}

const cost = (price: ModelPrice, u: Partial<Usage>) => PriceBook.cost(price, usage(u));

describe('PriceBook.cost', () => {
  const price: ModelPrice = { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75 };

  it('prices cache reads at cachedInput, cache writes at cacheWrite, the rest of the input at input, output at output', () => {
    expect(cost(price, { input: 1000, cacheRead: 200, cacheWrite: 300, output: 100 })).toBeCloseTo((500 * 3 + 200 * 0.3 + 300 * 3.75 + 100 * 15) / 1e6, 15);
  });

  it('prices cache reads and writes at the input price when the model has no price for them', () => {
    expect(cost({ input: 2, output: 8 }, { input: 1000, cacheRead: 400, cacheWrite: 100, output: 10 })).toBeCloseTo((1000 * 2 + 10 * 8) / 1e6, 15);
  });

  it('counts reasoning once, as part of output', () => {
    expect(cost(price, { input: 0, output: 100, reasoning: 60 })).toBeCloseTo((100 * 15) / 1e6, 15);
  });

  it('never prices more cache tokens than input tokens (an inconsistent report)', () => {
    expect(cost(price, { input: 100, cacheRead: 80, cacheWrite: 80, output: 0 })).toBeCloseTo((80 * 0.3 + 20 * 3.75) / 1e6, 15);
    expect(cost(price, { input: undefined, cacheRead: 50, cacheWrite: 50, output: 1 })).toBeCloseTo(15 / 1e6, 15);
  });

  it('is 0 for no tokens and for unknown counts', () => {
    expect(cost(price, {})).toBe(0);
  });

  describe('long-context tier', () => {
    const tiered: ModelPrice = {
      input: 1.25, output: 10, cachedInput: 0.125,
      longContext: { above: 200_000, input: 2.5, output: 15, cachedInput: 0.25 },
    };

    it('keeps the base prices for input of exactly `above` tokens', () => {
      expect(cost(tiered, { input: 200_000, cacheRead: 100_000, output: 1000 })).toBeCloseTo((100_000 * 1.25 + 100_000 * 0.125 + 1000 * 10) / 1e6, 12);
    });

    it('prices every token of a request with input over `above` at the tier, output and cache reads included', () => {
      expect(cost(tiered, { input: 200_001, cacheRead: 100_000, output: 1000 })).toBeCloseTo((100_001 * 2.5 + 100_000 * 0.25 + 1000 * 15) / 1e6, 12);
    });

    it('counts cache reads and writes towards `above` (they are part of input)', () => {
      const haiku = ANTHROPIC_PRICES['claude-haiku-5-5']!;
      const u = { input: 100_001, cacheRead: 90_000, cacheWrite: 10_000, output: 10 };
      expect(cost(haiku, u)).toBeCloseTo((1 * 0.5 + 90_000 * 0.05 + 10_000 * 0.625 + 10 * 2.5) / 1e6, 12);
    });

    it('defaults the tier\'s cache prices to the tier\'s input price', () => {
      const p: ModelPrice = { input: 1, output: 1, cachedInput: 0.1, cacheWrite: 1.25, longContext: { above: 10, input: 2, output: 3 } };
      expect(cost(p, { input: 11, cacheRead: 5, cacheWrite: 5, output: 1 })).toBeCloseTo((11 * 2 + 3) / 1e6, 15);
    });
  });

  it('matches the worked example for claude-sonnet-4-5: 1000 input (200 cache read, 300 cache write), 100 output', () => {
    const book = new PriceBook(DEFAULT_PRICES);
    const price = book.priceOf('claude-sonnet-4-5-20250929')!;
    expect(PriceBook.cost(price, usage({ input: 1000, cacheRead: 200, cacheWrite: 300, output: 100 }))).toBeCloseTo(
      (500 * 3 + 200 * 0.3 + 300 * 3.75 + 100 * 15) / 1e6,
      15,
    );
  });
});

describe('PriceBook.priceOf', () => {
  const book = new PriceBook(DEFAULT_PRICES);
  const resolves = (model: string, entry: string) => expect(book.priceOf(model), `${model} -> ${entry}`).toBe(DEFAULT_PRICES[entry]);

  it.each([
    ['claude-sonnet-4-5-20250929', 'claude-sonnet-4-5'],
    ['claude-sonnet-4-5', 'claude-sonnet-4-5'],
    ['claude-opus-4-1-20250805', 'claude-opus-4-1'],
    ['claude-opus-4-20250514', 'claude-opus-4'],
    ['claude-sonnet-4-0', 'claude-sonnet-4'],
    ['claude-haiku-4-5-20251001', 'claude-haiku-4-5'],
    ['claude-3-5-haiku-20241022', 'claude-3-5-haiku'],
    ['claude-3-5-haiku-latest', 'claude-3-5-haiku'],
    ['claude-3-haiku-20240307', 'claude-3-haiku'],
    ['claude-3-7-sonnet-latest', 'claude-3-7-sonnet'],
    ['gemini-2.5-flash', 'gemini-2.5-flash'],
    ['models/gemini-2.5-pro', 'gemini-2.5-pro'],
    ['gemini-3-pro-preview', 'gemini-3-pro-preview'],
    ['gpt-4o-mini-2024-07-18', 'gpt-4o-mini'],
    ['gpt-4-0613', 'gpt-4'],
  ])('resolves %s to %s', (model, entry) => resolves(model, entry));

  it('keeps near names apart: the longer name never gets the shorter one\'s price', () => {
    resolves('gpt-4o-mini', 'gpt-4o-mini');
    expect(DEFAULT_PRICES['gpt-4o-mini']).not.toEqual(DEFAULT_PRICES['gpt-4o']);
    resolves('claude-3-5-haiku-20241022', 'claude-3-5-haiku');
    expect(book.priceOf('claude-3-5-haiku-20241022')).not.toEqual(book.priceOf('claude-3-haiku-20240307'));
    resolves('gemini-2.5-flash-lite', 'gemini-2.5-flash-lite');
    expect(DEFAULT_PRICES['gemini-2.5-flash-lite']).not.toEqual(DEFAULT_PRICES['gemini-2.5-flash']);
  });

  it.each([
    'gpt-4o-mini-tts', // a different product of the family: no prefix matching
    'claude-3-5-sonnet-20241022', // retired, not in the table; must not fall to claude-3-5-haiku or any sonnet
    'claude-sonnet', // a family word alone
    'gemini-2.5-flash-preview-05-20', // the preview was priced differently from the released 2.5 Flash
    'gemini-2.5-flash-image',
    'gemini-flash-latest', // an alias whose model moves
    'mystery-model',
  ])('gives no price for %s', (model) => {
    expect(book.priceOf(model)).toBeNull();
  });

  it('lets the app\'s exact entry win over a family match', () => {
    const own = { input: 1, output: 2 };
    const app = new PriceBook({ ...DEFAULT_PRICES, 'claude-sonnet-4-5-20250929': own });
    expect(app.priceOf('claude-sonnet-4-5-20250929')).toBe(own);
    expect(app.priceOf('claude-sonnet-4-5')).toBe(DEFAULT_PRICES['claude-sonnet-4-5']);
  });

  it('resolves a stable Gemini version and a dated preview in an app table', () => {
    const flash = { input: 0.1, output: 0.4 };
    const preview = { input: 0.15, output: 3.5 };
    const app = new PriceBook({ 'gemini-2.0-flash': flash, 'gemini-2.5-flash-preview': preview });
    expect(app.priceOf('gemini-2.0-flash-001')).toBe(flash);
    expect(app.priceOf('models/gemini-2.0-flash-001')).toBe(flash);
    expect(app.priceOf('gemini-2.5-flash-preview-05-20')).toBe(preview);
    expect(app.priceOf('gemini-2.5-flash-preview-09-2025')).toBe(preview);
  });
});

describe('familyOf', () => {
  it.each([
    ['claude-sonnet-4-5-20250929', 'claude-sonnet-4-5'],
    ['claude-3-5-haiku-latest', 'claude-3-5-haiku'],
    ['gpt-4o-2024-08-06', 'gpt-4o'],
    ['gemini-2.0-flash-001', 'gemini-2.0-flash'],
    ['models/gemini-2.0-flash-001', 'gemini-2.0-flash'],
    ['publishers/google/models/gemini-2.5-pro', 'gemini-2.5-pro'],
    ['gemini-2.5-flash-preview-05-20', 'gemini-2.5-flash-preview'],
    ['gemini-2.5-flash-lite-preview-09-2025', 'gemini-2.5-flash-lite-preview'],
    ['gpt-4o-mini', 'gpt-4o-mini'],
    ['llama-3.1-405', 'llama-3.1-405'], // a size, not a Gemini version
    ['claude-opus-4-1', 'claude-opus-4-1'],
  ])('%s -> %s', (model, family) => {
    expect(familyOf(model)).toBe(family);
  });
});
