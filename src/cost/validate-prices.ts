import { InferometerConfigError, configError } from '../errors.js';
import type { ModelPrice, PriceTable } from '../types.js';

const PRICE_FIELDS = ['input', 'output', 'cachedInput'] as const;
/** USD per million tokens: far above any real price, low enough that no cost can overflow. */
const MAX_PRICE = 100_000;

/**
 * Validates the `prices` option: model name -> prices in USD per million tokens.
 * @throws InferometerConfigError
 */
export function validatePrices(prices: unknown): asserts prices is PriceTable {
  if (typeof prices !== 'object' || prices === null || Array.isArray(prices)) {
    throw configError('prices', 'an object of model name -> { input, output, cachedInput? } (USD per million tokens)', prices);
  }
  for (const [model, price] of Object.entries(prices)) {
    const where = `prices[${JSON.stringify(model)}]`;
    if (typeof price !== 'object' || price === null) {
      throw configError(where, 'an object { input, output, cachedInput? } (USD per million tokens)', price);
    }
    for (const field of Object.keys(price)) {
      if (!(PRICE_FIELDS as readonly string[]).includes(field)) {
        throw new InferometerConfigError(`Unknown price field \`${where}.${field}\`; the fields are \`input\`, \`output\`, \`cachedInput\` (USD per million tokens)`);
      }
    }
    for (const field of PRICE_FIELDS) {
      const value = (price as Partial<ModelPrice>)[field];
      if (field === 'cachedInput' && value === undefined) continue;
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_PRICE) {
        throw configError(`${where}.${field}`, `a number from 0 to ${MAX_PRICE} (USD per million tokens)`, value);
      }
    }
  }
}
