import { describe, expect, it } from 'vitest';
import { ANTHROPIC_PRICES, ANTHROPIC_PRICES_DATE } from '../../src/cost/anthropic-prices.js';
import { BEDROCK_PRICES, BEDROCK_PRICES_DATE } from '../../src/cost/bedrock-prices.js';
import { DEFAULT_PRICES, DEFAULT_PRICES_DATE } from '../../src/cost/default-prices.js';
import { GEMINI_PRICES, GEMINI_PRICES_DATE } from '../../src/cost/gemini-prices.js';
import { OPENAI_PRICES, OPENAI_PRICES_DATE } from '../../src/cost/openai-prices.js';
import { familyOf } from '../../src/cost/price-book.js';
import { validatePrices } from '../../src/cost/validate-prices.js';
import type { ModelPrice } from '../../src/types.js';

const TABLES = { openai: OPENAI_PRICES, anthropic: ANTHROPIC_PRICES, gemini: GEMINI_PRICES, bedrock: BEDROCK_PRICES };

describe('the built-in price tables', () => {
  it('are the union of the OpenAI, Anthropic, Gemini and Bedrock tables, which share no model name', () => {
    const names = Object.values(TABLES).flatMap((t) => Object.keys(t));
    expect(new Set(names).size).toBe(names.length);
    expect(Object.keys(DEFAULT_PRICES).sort()).toEqual([...names].sort());
    for (const table of Object.values(TABLES)) for (const [name, price] of Object.entries(table)) expect(DEFAULT_PRICES[name]).toBe(price);
  });

  it('pass the validation the `prices` option gets', () => {
    expect(() => validatePrices(DEFAULT_PRICES)).not.toThrow();
    for (const [name, price] of Object.entries(DEFAULT_PRICES)) expect(() => validatePrices({ [name]: price }), name).not.toThrow();
  });

  it('name families only: no entry carries a suffix that price lookup removes (it would never be reached by a snapshot)', () => {
    for (const name of Object.keys(DEFAULT_PRICES)) expect(familyOf(name), name).toBe(name);
  });

  it('price every cache read below input, every cache write at or above it, and every long-context tier above the base', () => {
    const check = (name: string, p: Omit<ModelPrice, 'longContext'>) => {
      if (p.cachedInput !== undefined) expect(p.cachedInput, name).toBeLessThan(p.input);
      if (p.cacheWrite !== undefined) expect(p.cacheWrite, name).toBeGreaterThanOrEqual(p.input);
    };
    for (const [name, p] of Object.entries(DEFAULT_PRICES)) {
      check(name, p);
      if (p.longContext === undefined) continue;
      check(`${name}.longContext`, p.longContext);
      expect(p.longContext.input, name).toBeGreaterThan(p.input);
      expect(p.longContext.output, name).toBeGreaterThan(p.output);
    }
  });

  it('follow Anthropic\'s rule: 5-minute cache write 1.25x input; cache read 0.1x except where Anthropic set it lower', () => {
    const lowerRead = new Set(['claude-fable-5-1', 'claude-mythos-5-1', 'claude-opus-5-5', 'claude-sonnet-5-5']);
    for (const [name, p] of Object.entries(ANTHROPIC_PRICES)) {
      if (name === 'claude-3-haiku') continue; // published rounded: 0.30 write, 0.03 read (0.3125, 0.025 by the rule)
      expect(p.cacheWrite, name).toBeCloseTo(p.input * 1.25, 12);
      if (lowerRead.has(name)) expect(p.cachedInput!, name).toBeLessThan(p.input * 0.1);
      else expect(p.cachedInput, name).toBeCloseTo(p.input * 0.1, 12);
    }
  });

  it('are dated, and DEFAULT_PRICES_DATE is the oldest date', () => {
    for (const date of [OPENAI_PRICES_DATE, ANTHROPIC_PRICES_DATE, GEMINI_PRICES_DATE, BEDROCK_PRICES_DATE]) {
      expect(date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(Number.isNaN(Date.parse(date))).toBe(false);
      expect(DEFAULT_PRICES_DATE <= date).toBe(true);
    }
    expect([OPENAI_PRICES_DATE, ANTHROPIC_PRICES_DATE, GEMINI_PRICES_DATE, BEDROCK_PRICES_DATE]).toContain(DEFAULT_PRICES_DATE);
  });

  it('cannot be changed by the app at run time', () => {
    expect(Object.isFrozen(DEFAULT_PRICES)).toBe(true);
    for (const table of Object.values(TABLES)) expect(Object.isFrozen(table)).toBe(true);
  });
});
