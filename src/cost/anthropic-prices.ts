import type { PriceTable } from '../types.js';

/** The day the built-in Anthropic prices were last checked against Anthropic's published price list. */
export const ANTHROPIC_PRICES_DATE = '2026-10-24';

const FABLE_5_1 = { input: 10, output: 50, cacheWrite: 12.5, cachedInput: 0.25 };
const FABLE_5 = { input: 10, output: 50, cacheWrite: 12.5, cachedInput: 1 };
const OPUS_4_5 = { input: 5, output: 25, cacheWrite: 6.25, cachedInput: 0.5 };
const OPUS_4 = { input: 15, output: 75, cacheWrite: 18.75, cachedInput: 1.5 };
const SONNET_3_7 = { input: 3, output: 15, cacheWrite: 3.75, cachedInput: 0.3 };
/** Sonnet 4 and 4.5 with the 1M-token context window: a prompt over 200K tokens is priced higher. */
const SONNET_4 = { ...SONNET_3_7, longContext: { above: 200_000, input: 6, output: 22.5, cacheWrite: 7.5, cachedInput: 0.6 } };

/**
 * Anthropic's standard-tier prices (USD per million tokens) as published on
 * {@link ANTHROPIC_PRICES_DATE}: the pricing page (platform.claude.com/docs/en/about-claude/pricing)
 * and the model overview pages. `cacheWrite` is the 5-minute cache write (1.25x input; a 1-hour
 * write costs 2x input: set `cacheWrite` with the `prices` option if you use those), `cachedInput`
 * the cache read (0.1x input unless noted). Not included: Batch (50% off), fast mode, the data
 * residency surcharge and the server tools' per-request fees.
 *
 * Names are the API's model ids without their snapshot date (`claude-sonnet-4-5-20250929` ->
 * `claude-sonnet-4-5`; `claude-3-5-haiku-latest` -> `claude-3-5-haiku`), plus the `-0` aliases.
 */
export const ANTHROPIC_PRICES: PriceTable = Object.freeze({
  'claude-fable-5-1': FABLE_5_1, // cache read 0.025x
  'claude-mythos-5-1': FABLE_5_1,
  'claude-fable-5': FABLE_5,
  'claude-mythos-5': FABLE_5,
  'claude-opus-5-5': { input: 4, output: 20, cacheWrite: 5, cachedInput: 0.2 }, // cache read 0.05x
  'claude-opus-5': OPUS_4_5,
  'claude-opus-4-8': OPUS_4_5,
  'claude-opus-4-7': OPUS_4_5,
  'claude-opus-4-6': OPUS_4_5,
  'claude-opus-4-5': OPUS_4_5,
  'claude-opus-4-1': OPUS_4,
  'claude-opus-4': OPUS_4,
  'claude-opus-4-0': OPUS_4,
  'claude-sonnet-5-5': { input: 2, output: 10, cacheWrite: 2.5, cachedInput: 0.1 }, // cache read 0.20 before 2026-10-07
  'claude-sonnet-5': { input: 2, output: 10, cacheWrite: 2.5, cachedInput: 0.2 },
  'claude-sonnet-4-6': SONNET_3_7, // no long-context surcharge since 4.6
  'claude-sonnet-4-5': SONNET_4,
  'claude-sonnet-4': SONNET_4,
  'claude-sonnet-4-0': SONNET_4,
  'claude-3-7-sonnet': SONNET_3_7,
  // A prompt over 100K tokens (cache reads and writes included) prices the whole request higher.
  'claude-haiku-5-5': {
    input: 0.1, output: 0.5, cacheWrite: 0.125, cachedInput: 0.01,
    longContext: { above: 100_000, input: 0.5, output: 2.5, cacheWrite: 0.625, cachedInput: 0.05 },
  },
  'claude-haiku-4-5': { input: 1, output: 5, cacheWrite: 1.25, cachedInput: 0.1 },
  'claude-3-5-haiku': { input: 0.8, output: 4, cacheWrite: 1, cachedInput: 0.08 },
  'claude-3-haiku': { input: 0.25, output: 1.25, cacheWrite: 0.3, cachedInput: 0.03 },
});
