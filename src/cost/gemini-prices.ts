import type { PriceTable } from '../types.js';

/** The day the built-in Gemini prices were last checked (against secondary sources: see {@link GEMINI_PRICES}). */
export const GEMINI_PRICES_DATE = '2026-11-30';

/** Gemini 3 Pro: a prompt over 200K tokens prices the whole request at the second tier. Cache reads unverified. */
const PRO_3 = { input: 2, output: 12, cachedInput: 0.2, longContext: { above: 200_000, input: 4, output: 18, cachedInput: 0.4 } };
/** Cache read unverified. */
const FLASH_3 = { input: 0.5, output: 3, cachedInput: 0.05 };

/**
 * The Gemini Developer API's paid-tier (standard) prices in USD per million tokens, text input,
 * as found on {@link GEMINI_PRICES_DATE}. Google's own price page (ai.google.dev/gemini-api/docs/pricing)
 * could not be read: the figures come from sources that quote it (Google's developer forum,
 * morphllm.com, LiteLLM's release notes). Check them against that page; correct them with the
 * `prices` option. Output includes thinking tokens. A prompt over 200K tokens (`promptTokenCount`)
 * prices the whole request at the `longContext` tier. `cachedInput` is the context-cache read
 * (cache storage, billed per hour, is not a request's cost). Batch and Flex (50% off), Priority,
 * and audio input (priced higher) are not included. Vertex AI lists the same prices for these
 * models but has its own tiers.
 *
 * Names are the API's model ids: `models/gemini-2.5-pro` and `gemini-2.0-flash-001` resolve to
 * their family; a dated preview (`gemini-2.5-flash-preview-05-20`) resolves only to an undated
 * preview listed here, never to the released model (2.5 Flash's preview was priced differently).
 */
export const GEMINI_PRICES: PriceTable = Object.freeze({
  'gemini-3.7-flash': { input: 0.75, output: 3.75, cachedInput: 0.075 }, // promotional until 2027-12-31 (list 1.50 / 7.50); cache read derived (0.1x), unverified
  'gemini-3.5-flash': { input: 1.5, output: 9, cachedInput: 0.15 }, // cache read derived (0.1x), unverified
  'gemini-3.1-pro': PRO_3,
  'gemini-3.1-pro-preview': PRO_3,
  'gemini-3.1-flash-lite': { input: 0.25, output: 1.5, cachedInput: 0.025 }, // cache read derived (0.1x), unverified
  'gemini-3-pro-preview': PRO_3,
  'gemini-3-flash': FLASH_3,
  'gemini-3-flash-preview': FLASH_3,
  // Cache reads 0.125 / 0.25 as Google's forum quotes the price page (0.31 / 0.625 before implicit caching).
  'gemini-2.5-pro': { input: 1.25, output: 10, cachedInput: 0.125, longContext: { above: 200_000, input: 2.5, output: 15, cachedInput: 0.25 } },
  'gemini-2.5-flash': { input: 0.3, output: 2.5, cachedInput: 0.03 }, // cache read unverified
  'gemini-2.5-flash-lite': { input: 0.1, output: 0.4, cachedInput: 0.01 }, // cache read unverified
});
