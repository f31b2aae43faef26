import { InferometerConfigError, configError } from '../errors.js';
import type { PriceTable } from '../types.js';

const PRICE_FIELDS = ['input', 'output', 'cachedInput', 'cacheWrite'] as const;
const OPTIONAL_FIELDS: readonly string[] = ['cachedInput', 'cacheWrite'];
const FIELDS: readonly string[] = [...PRICE_FIELDS, 'longContext'];
const LONG_CONTEXT_FIELDS: readonly string[] = ['above', ...PRICE_FIELDS];
const FIELD_LIST = '`input`, `output`, `cachedInput`, `cacheWrite` (USD per million tokens), `longContext` ({ above, input, output, cachedInput?, cacheWrite? })';
const LONG_CONTEXT_FIELD_LIST = '`above` (input tokens), `input`, `output`, `cachedInput`, `cacheWrite` (USD per million tokens)';
/** USD per million tokens: far above any real price, low enough that no cost can overflow. */
const MAX_PRICE = 100_000;
const UNIT = '(USD per million tokens)';

/**
 * Validates the `prices` option: model name -> prices in USD per million tokens.
 * @throws InferometerConfigError
 */
export function validatePrices(prices: unknown): asserts prices is PriceTable {
  if (typeof prices !== 'object' || prices === null || Array.isArray(prices)) {
    throw configError('prices', `an object of model name -> { input, output, cachedInput? } ${UNIT}`, prices);
  }
  for (const [model, price] of Object.entries(prices)) {
    const where = `prices[${JSON.stringify(model)}]`;
    if (typeof price !== 'object' || price === null || Array.isArray(price)) {
      throw configError(where, `an object { input, output, cachedInput? } ${UNIT}`, price);
    }
    checkFields(where, price, FIELDS, FIELD_LIST);
    checkPrices(where, price);
    const longContext = (price as { longContext?: unknown }).longContext;
    if (longContext === undefined) continue;
    const tier = `${where}.longContext`;
    if (typeof longContext !== 'object' || longContext === null || Array.isArray(longContext)) {
      throw configError(tier, `an object { above, input, output, cachedInput?, cacheWrite? } ${UNIT}`, longContext);
    }
    checkFields(tier, longContext, LONG_CONTEXT_FIELDS, LONG_CONTEXT_FIELD_LIST);
    const above = (longContext as { above?: unknown }).above;
    if (typeof above !== 'number' || !Number.isSafeInteger(above) || above <= 0) {
      throw configError(`${tier}.above`, 'an integer > 0 (input tokens)', above);
    }
    checkPrices(tier, longContext);
  }
}

function checkFields(where: string, price: object, fields: readonly string[], list: string): void {
  for (const field of Object.keys(price)) {
    if (!fields.includes(field)) {
      throw new InferometerConfigError(`Unknown price field \`${where}.${field}\`; the fields are ${list}`);
    }
  }
}

function checkPrices(where: string, price: object): void {
  for (const field of PRICE_FIELDS) {
    const value = (price as Record<string, unknown>)[field];
    if (value === undefined && OPTIONAL_FIELDS.includes(field)) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_PRICE) {
      throw configError(`${where}.${field}`, `a number from 0 to ${MAX_PRICE} ${UNIT}`, value);
    }
  }
}
