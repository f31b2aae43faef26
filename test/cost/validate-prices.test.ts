import { describe, expect, it } from 'vitest';
import { validatePrices } from '../../src/cost/validate-prices.js';
import { InferometerConfigError } from '../../src/errors.js';

const ok = (prices: unknown) => expect(() => validatePrices(prices)).not.toThrow();
const rejects = (prices: unknown, message: string) => expect(() => validatePrices(prices)).toThrow(new InferometerConfigError(message));

describe('validatePrices', () => {
  it('accepts cache write prices and a long-context tier', () => {
    ok({ m: { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75 } });
    ok({ m: { input: 1.25, output: 10, longContext: { above: 200_000, input: 2.5, output: 15 } } });
    ok({ m: { input: 1, output: 1, longContext: { above: 1, input: 0, output: 100_000, cachedInput: 0, cacheWrite: 2 } } });
  });

  it.each([
    [{ m: { input: 1, output: 1, cacheWrite: -1 } }, 'Expected `prices["m"].cacheWrite` to be a number from 0 to 100000 (USD per million tokens), got `-1` (number)'],
    [{ m: { input: 1, output: 1, cacheWrite: null } }, 'Expected `prices["m"].cacheWrite` to be a number from 0 to 100000 (USD per million tokens), got `null` (null)'],
    [{ m: { input: 1, output: 1, longContext: 2 } }, 'Expected `prices["m"].longContext` to be an object { above, input, output, cachedInput?, cacheWrite? } (USD per million tokens), got `2` (number)'],
    [{ m: { input: 1, output: 1, longContext: { above: 0, input: 2, output: 2 } } }, 'Expected `prices["m"].longContext.above` to be an integer > 0 (input tokens), got `0` (number)'],
    [{ m: { input: 1, output: 1, longContext: { above: 1.5, input: 2, output: 2 } } }, 'Expected `prices["m"].longContext.above` to be an integer > 0 (input tokens), got `1.5` (number)'],
    [{ m: { input: 1, output: 1, longContext: { input: 2, output: 2 } } }, 'Expected `prices["m"].longContext.above` to be an integer > 0 (input tokens), got `undefined` (undefined)'],
    [{ m: { input: 1, output: 1, longContext: { above: 10, input: '2', output: 2 } } }, 'Expected `prices["m"].longContext.input` to be a number from 0 to 100000 (USD per million tokens), got `"2"` (string)'],
    [{ m: { input: 1, output: 1, longContext: { above: 10, input: 2 } } }, 'Expected `prices["m"].longContext.output` to be a number from 0 to 100000 (USD per million tokens), got `undefined` (undefined)'],
    [{ m: { input: 1, output: 1, longContext: { above: 10, input: 2, output: 2, cacheWrite: 1e6 } } }, 'Expected `prices["m"].longContext.cacheWrite` to be a number from 0 to 100000 (USD per million tokens), got `1000000` (number)'],
  ])('rejects %j', (prices, message) => rejects(prices, message));

  it('names every field when one is unknown, at either level', () => {
    rejects(
      { m: { input: 1, output: 1, cache_write: 2 } },
      'Unknown price field `prices["m"].cache_write`; the fields are `input`, `output`, `cachedInput`, `cacheWrite` (USD per million tokens), `longContext` ({ above, input, output, cachedInput?, cacheWrite? })',
    );
    rejects(
      { m: { input: 1, output: 1, longContext: { threshold: 200_000, input: 2, output: 2 } } },
      'Unknown price field `prices["m"].longContext.threshold`; the fields are `above` (input tokens), `input`, `output`, `cachedInput`, `cacheWrite` (USD per million tokens)',
    );
  });
});
